import { z } from 'zod';

/** The archive layout this build writes; a restore refuses a higher number (a newer Inferbox's layout). */
export const BACKUP_FORMAT = 1;
export const MANIFEST_FILE = 'manifest.json';
/** The database snapshot's name inside the archive (and in the data dir). */
export const DATABASE_FILE = 'inferbox.db';

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);

/**
 * manifest.json, the archive's first entry: what wrote it and the SHA-256 of every other entry,
 * so a restore can prove each file arrived intact before it replaces anything. Extra fields are
 * kept (passthrough) so that a later version may add some without breaking this one's checks.
 */
export const backupManifestSchema = z.looseObject({
  format: z.number().int().min(1),
  app_version: z.string(),
  schema_version: z.number().int().min(0),
  created_at: z.string(),
  /** Why it was made: manual (API or CLI), scheduled, pre-migration, pre-restore. */
  reason: z.string(),
  files: z.array(z.object({ path: z.string(), size: z.number().int().min(0), sha256: sha256Hex })),
});

export type BackupManifest = z.infer<typeof backupManifestSchema>;
