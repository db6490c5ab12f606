import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { HardwareProfile } from '../../../server/hardware/HardwareProfile.js';

const isaFlags = z.strictObject({ avx2: z.boolean(), avx512: z.boolean(), avx512Vnni: z.boolean(), avxVnni: z.boolean(), amx: z.boolean() });

/** HardwareProfile as a runtime check; typed against the interface so the two cannot drift apart. */
export const hardwareProfileSchema: z.ZodType<HardwareProfile> = z.strictObject({
  cpu: z.strictObject({
    brand: z.string(),
    vendor: z.string(),
    physicalCores: z.int().min(1),
    logicalCores: z.int().min(1),
    speedGHz: z.number().positive().nullable(),
    flags: isaFlags.nullable(),
  }),
  memory: z.strictObject({ totalBytes: z.int().positive(), availableBytes: z.int().nonnegative() }),
  gpus: z.array(
    z.strictObject({
      vendor: z.enum(['nvidia', 'amd', 'intel', 'apple', 'qualcomm', 'other']),
      model: z.string(),
      vramMB: z.int().positive().nullable(),
      bus: z.string().min(1).optional(),
    }),
  ),
  os: z.strictObject({
    platform: z.enum(['aix', 'android', 'darwin', 'freebsd', 'haiku', 'linux', 'openbsd', 'sunos', 'win32', 'cygwin', 'netbsd']),
    distro: z.string(),
    release: z.string(),
    arch: z.string().min(1),
  }),
  probe: z.strictObject({ status: z.enum(['ok', 'partial', 'fallback']), durationMs: z.number().nonnegative(), errors: z.array(z.string()) }),
});

export const FIXTURE_NAMES = ['linux-nvidia-server', 'windows-laptop', 'macos-m2', 'linux-2core-vm'] as const;
export type FixtureName = (typeof FIXTURE_NAMES)[number];

/** A recorded probe result from fixtures/, checked against the HardwareProfile shape. */
export function loadFixture(name: FixtureName): HardwareProfile {
  const text = readFileSync(new URL(`./fixtures/${name}.json`, import.meta.url), 'utf8');
  return hardwareProfileSchema.parse(JSON.parse(text));
}
