import { z } from 'zod';
import { versionMetadataSchema } from '../registry/versionMetadata.js';

/**
 * The `metadata` part of a multipart model upload: the version's labels and training metrics, and
 * optionally an A/B experiment of the upload against the active version, started in the same call.
 * `experiment` takes the fields of POST /api/experiments except `model` and `variants` (the
 * variants are `control` = the active version and `candidate` = this upload); the experiment
 * schema checks them.
 */
export const uploadMetadataSchema = versionMetadataSchema.extend({
  experiment: z
    .record(z.string(), z.unknown())
    .refine((spec) => !('model' in spec) && !('variants' in spec), { message: "leave out 'model' and 'variants': the variants are control (the active version) and candidate (this upload)" })
    .optional(),
});

export type UploadMetadata = z.infer<typeof uploadMetadataSchema>;
