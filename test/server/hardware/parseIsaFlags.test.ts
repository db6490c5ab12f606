import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NO_ISA_FLAGS, parseIsaFlags } from '../../../server/hardware/parseIsaFlags.js';
import { SAPPHIRE_RAPIDS_FLAGS } from './recordedSystemInformation.js';

/** lscpu on a Core i7-8650U (Kaby Lake R): AVX2, nothing newer. */
const KABY_LAKE_FLAGS =
  'fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush dts acpi mmx fxsr sse sse2 ss ht tm pbe syscall nx pdpe1gb rdtscp lm constant_tsc art arch_perfmon pebs bts rep_good nopl xtopology nonstop_tsc cpuid aperfmperf pni pclmulqdq dtes64 monitor ds_cpl vmx est tm2 ssse3 sdbg fma cx16 xtpr pdcm pcid sse4_1 sse4_2 x2apic movbe popcnt tsc_deadline_timer aes xsave avx f16c rdrand lahf_lm abm 3dnowprefetch cpuid_fault epb invpcid_single pti ssbd ibrs ibpb stibp tpr_shadow flexpriority ept vpid ept_ad fsgsbase tsc_adjust bmi1 avx2 smep bmi2 erms invpcid mpx rdseed adx smap clflushopt intel_pt xsaveopt xsavec xgetbv1 xsaves dtherm ida arat pln pts hwp hwp_notify hwp_act_window hwp_epp md_clear flush_l1d arch_capabilities';

/** What systeminformation makes of the Windows registry FeatureSet value: CPUID leaf 1 EDX only. */
const WINDOWS_FLAGS = 'fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse-36 clfsh ds acpi mmx fxsr sse sse2 ss htt tm pbe';

/** `sysctl machdep.cpu.features` on an Intel Mac (lower-cased by systeminformation); AVX2 lives in leaf7_features. */
const INTEL_MAC_FLAGS =
  'fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clfsh ds acpi mmx fxsr sse sse2 ss htt tm pbe sse3 pclmulqdq dtes64 mon dscpl vmx est tm2 ssse3 fma cx16 tpr pdcm sse4.1 sse4.2 x2apic movbe popcnt aes pcid xsave osxsave seglim64 tsctmr avx1.0 rdrand f16c';

/** /proc/cpuinfo Features on AWS Graviton2. */
const GRAVITON_FLAGS = 'fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp ssbs';

test('Linux x86: every flag read from the lscpu names', () => {
  assert.deepEqual(parseIsaFlags(SAPPHIRE_RAPIDS_FLAGS, 'linux', 'x64'), { avx2: true, avx512: true, avx512Vnni: true, avxVnni: true, amx: true });
  assert.deepEqual(parseIsaFlags(KABY_LAKE_FLAGS, 'linux', 'x64'), { avx2: true, avx512: false, avx512Vnni: false, avxVnni: false, amx: false });
});

test('amx needs the int8 unit, not just the tiles', () => {
  assert.equal(parseIsaFlags('avx2 avx512f amx_tile amx_bf16', 'linux', 'x64')?.amx, false);
});

test('Windows and Intel macOS flag strings cannot tell: null, not false', () => {
  assert.equal(parseIsaFlags(WINDOWS_FLAGS, 'win32', 'x64'), null);
  assert.equal(parseIsaFlags(INTEL_MAC_FLAGS, 'darwin', 'x64'), null);
});

test('an empty string on Linux (lscpu and /proc/cpuinfo both failed) is unknown', () => {
  assert.equal(parseIsaFlags('', 'linux', 'x64'), null);
});

test('ARM has none of the x86 extensions, on any OS and with any string', () => {
  assert.deepEqual(parseIsaFlags(GRAVITON_FLAGS, 'linux', 'arm64'), NO_ISA_FLAGS);
  assert.deepEqual(parseIsaFlags('', 'darwin', 'arm64'), NO_ISA_FLAGS);
  assert.deepEqual(parseIsaFlags(WINDOWS_FLAGS, 'win32', 'arm64'), NO_ISA_FLAGS);
});
