import { z } from 'zod';

/**
 * Keys of labels and metrics: the Kubernetes label-key alphabet (letters, digits, `_ . - /`),
 * so they read the same in a pipeline, a manifest and the console.
 */
const KEY = /^[A-Za-z0-9][A-Za-z0-9_.\-/]{0,62}$/;

/** A string-keyed record with at most `max` entries, each key checked with a message that names it. */
function boundedRecord<T extends z.ZodType>(values: T, max: number, what: string) {
  return z.record(z.string(), values).superRefine((record, ctx) => {
    const keys = Object.keys(record);
    if (keys.length > max) ctx.addIssue({ code: 'custom', message: `at most ${max} ${what}` });
    for (const key of keys) {
      if (!KEY.test(key)) ctx.addIssue({ code: 'custom', path: [key], message: `'${key}' is not a valid key: 1–63 letters, digits, _ . - or /, starting with a letter or digit` });
    }
  });
}

/**
 * What a training pipeline attaches to a version when it registers it. Bounded so that a model
 * list stays small enough to show and to keep in memory with the rows (the repository caches them).
 */
export const versionMetadataSchema = z
  .object({
    /** Free-form provenance: git commit, dataset, run id… */
    labels: boundedRecord(z.string().max(256), 32, 'labels').default({}),
    /** Figures from training or offline evaluation (finite numbers: JSON cannot carry NaN anyway). */
    metrics: boundedRecord(z.number().finite(), 64, 'metrics').default({}),
  })
  .strict();

export type VersionMetadata = z.infer<typeof versionMetadataSchema>;
