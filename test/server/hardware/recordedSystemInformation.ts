import type { SystemInformation } from '../../../server/hardware/SystemInformation.js';

/** lscpu on a Xeon Gold 6426Y (Sapphire Rapids). */
export const SAPPHIRE_RAPIDS_FLAGS =
  'fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush dts acpi mmx fxsr sse sse2 ss ht tm pbe syscall nx pdpe1gb rdtscp lm constant_tsc art arch_perfmon pebs bts rep_good nopl xtopology nonstop_tsc cpuid aperfmperf tsc_known_freq pni pclmulqdq dtes64 monitor ds_cpl vmx smx est tm2 ssse3 sdbg fma cx16 xtpr pdcm pcid dca sse4_1 sse4_2 x2apic movbe popcnt tsc_deadline_timer aes xsave avx f16c rdrand lahf_lm abm 3dnowprefetch cpuid_fault epb cat_l3 cat_l2 cdp_l3 invpcid_single intel_ppin cdp_l2 ssbd mba ibrs ibpb stibp ibrs_enhanced tpr_shadow flexpriority ept vpid ept_ad fsgsbase tsc_adjust bmi1 avx2 smep bmi2 erms invpcid cqm rdt_a avx512f avx512dq rdseed adx smap avx512ifma clflushopt clwb intel_pt avx512cd sha_ni avx512bw avx512vl xsaveopt xsavec xgetbv1 xsaves cqm_llc cqm_occup_llc cqm_mbm_total cqm_mbm_local split_lock_detect avx_vnni avx512_bf16 wbnoinvd dtherm ida arat pln pts hfi vnmi avx512vbmi umip pku ospke waitpkg avx512_vbmi2 gfni vaes vpclmulqdq avx512_vnni avx512_bitalg tme avx512_vpopcntdq la57 rdpid bus_lock_detect cldemote movdiri movdir64b enqcmd fsrm md_clear serialize tsxldtrk pconfig arch_lbr ibt amx_bf16 avx512_fp16 amx_tile amx_int8 flush_l1d arch_capabilities';

/** What systeminformation returns on the machine behind fixtures/linux-nvidia-server.json (fields the probe reads). */
export const NVIDIA_SERVER_RAW: { [Call in keyof SystemInformation]: Awaited<ReturnType<SystemInformation[Call]>> } = {
  cpu: { manufacturer: 'Intel', brand: 'Xeon® Gold 6426Y', vendor: 'GenuineIntel', physicalCores: 16, cores: 32, speed: 2.5 },
  cpuFlags: SAPPHIRE_RAPIDS_FLAGS,
  mem: { total: 270100508672, available: 251234861056 },
  graphics: {
    controllers: [
      // The BMC's display chip, from lspci; not in a PCIe slot that dmidecode lists, hence 'Onboard'.
      { vendor: 'ASPEED Technology, Inc.', model: 'ASPEED Graphics Family', bus: 'Onboard', vram: 64 },
      // lspci names the chip; nvidia-smi adds the product name and memory.total.
      { vendor: 'NVIDIA Corporation', model: 'GA102GL [RTX A6000]', name: 'NVIDIA RTX A6000', bus: 'PCIe', vram: 49140 },
    ],
  },
  osInfo: { distro: 'Ubuntu', release: '22.04.4 LTS' },
};

/** A SystemInformation that answers from recorded results at once; entries in `calls` replace single calls. */
export function fakeSystemInformation(calls: Partial<SystemInformation> = {}, raw = NVIDIA_SERVER_RAW): SystemInformation {
  return {
    cpu: async () => raw.cpu,
    cpuFlags: async () => raw.cpuFlags,
    mem: async () => raw.mem,
    graphics: async () => raw.graphics,
    osInfo: async () => raw.osInfo,
    ...calls,
  };
}
