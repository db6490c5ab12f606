import type { IsaFlags } from './HardwareProfile.js';

/** What a CPU without these x86 extensions has. */
export const NO_ISA_FLAGS: Readonly<IsaFlags> = Object.freeze({
  avx2: false,
  avx512: false,
  avx512Vnni: false,
  avxVnni: false,
  amx: false,
});

const X86_ARCHES = new Set(['x64', 'ia32']);

/**
 * Reads the ISA extensions from systeminformation's cpuFlags() string.
 *
 * Returns null ("cannot tell") where the string does not cover them. All five live in CPUID
 * leaf 7, and only on Linux does systeminformation list leaf 7 (lscpu / /proc/cpuinfo names).
 * On Windows it decodes just the leaf-1 EDX bits of the registry FeatureSet value, and on macOS
 * it reads machdep.cpu.features, while AVX2 and AVX-512 are in machdep.cpu.leaf7_features; there
 * a missing name means "not reported", not "absent". An empty string means both lscpu and
 * /proc/cpuinfo failed.
 *
 * Non-x86 CPUs (Apple silicon, Graviton, Snapdragon) have none of these, whatever the string says.
 */
export function parseIsaFlags(flags: string, platform: NodeJS.Platform, arch: string): IsaFlags | null {
  if (!X86_ARCHES.has(arch)) return { ...NO_ISA_FLAGS };
  if (platform !== 'linux' || flags.trim() === '') return null;
  const names = new Set(flags.toLowerCase().split(/\s+/));
  return {
    avx2: names.has('avx2'),
    // avx512f is the foundation every other AVX-512 subset requires.
    avx512: names.has('avx512f'),
    avx512Vnni: names.has('avx512_vnni'),
    avxVnni: names.has('avx_vnni'),
    // Every AMX CPU so far (Sapphire Rapids on) has the int8 and bf16 units with the tiles;
    // amx_tile alone would be a tile unit with no arithmetic.
    amx: names.has('amx_tile') && names.has('amx_int8'),
  };
}
