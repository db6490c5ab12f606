import { z } from 'zod';

/**
 * Keys of labels and metrics: the Kubernetes label-key alphabet (letters, digits, `_ . - /`),
 * so they carry over to an exported KServe manifest's annotations and read the same in a pipeline.
 */
const metadataKey = z.string().regex(/^[A-Za-z0-9]([A-Za-z0-9_.\-/]{0,62})$/, { message: 'a key is 1–63 letters, digits, _ . - or /, starting with a letter or digit' });

/**
 * What a training pipeline attaches to a version when it registers it. Bounded so that a model
 * list stays small enough to show and to keep in memory with the rows (the repository caches them).
 */
export const versionMetadataSchema = z
  .object({
    /** Free-form provenance: git commit, dataset, run id… */
    labels: z
      .record(metadataKey, z.string().max(256))
      .refine((labels) => Object.keys(labels).length <= 32, { message: 'at most 32 labels' })
      .default({}),
    /** Figures from training or offline evaluation (finite numbers: JSON cannot carry NaN anyway). */
    metrics: z
      .record(metadataKey, z.number().finite())
      .refine((metrics) => Object.keys(metrics).length <= 64, { message: 'at most 64 metrics' })
      .default({}),
  })
  .strict();

export type VersionMetadata = z.infer<typeof versionMetadataSchema>;
