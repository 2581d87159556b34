import { z } from 'zod';
import { signedCheckpointSchema } from '../audit/checkpoint-format.js';

/**
 * A Gatehouse backup is gzip-compressed JSON lines:
 *
 *   {"format":"gatehouse-backup","formatVersion":1,...header}         one line
 *   {"table":"users","rows":2}                                           per table, in restore order
 *   {"id":"…","username":"admin",…}                                      that many rows, each as PostgreSQL's to_jsonb
 *   {"end":true,"tables":23,"rows":1234,"sha256":"…"}                    the trailer
 *
 * Rows are PostgreSQL's own JSON of each row (to_jsonb), written and restored (with
 * jsonb_populate_recordset) without being parsed in between: timestamps keep their
 * microseconds, bigints their digits, bytea its bytes. The same file restores into the
 * embedded database or PostgreSQL. The trailer's SHA-256 covers every line before it (each
 * with its newline), so a truncated or edited file is refused before anything is written.
 */
export const BACKUP_FORMAT = 'gatehouse-backup';
export const BACKUP_FORMAT_VERSION = 1;

/** The audit chain's head in the backup's snapshot (null: an empty chain). */
const chainHeadSchema = z.strictObject({ seq: z.number().int().positive(), hash: z.string() });

export const backupHeaderSchema = z.strictObject({
  format: z.literal(BACKUP_FORMAT),
  formatVersion: z.literal(BACKUP_FORMAT_VERSION),
  createdAt: z.iso.datetime({ offset: true }),
  /** Where it was taken: 'postgres' or 'embedded'. */
  database: z.enum(['postgres', 'embedded']),
  /** The last migration applied: restore migrates an empty database to exactly this. */
  schemaVersion: z.string().min(1),
  tables: z.array(z.strictObject({ name: z.string().regex(/^[a-z_]+$/), rows: z.number().int().nonnegative() })),
  /** The audit chain's head at the snapshot, signed with the appliance's key when it could be. */
  checkpoint: z.union([signedCheckpointSchema, chainHeadSchema, z.null()]),
});

export type BackupHeader = z.infer<typeof backupHeaderSchema>;
export type BackupCheckpoint = BackupHeader['checkpoint'];

export const tableLineSchema = z.strictObject({ table: z.string().regex(/^[a-z_]+$/), rows: z.number().int() });

export const trailerSchema = z.strictObject({
  end: z.literal(true),
  tables: z.number().int(),
  rows: z.number().int(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});

export type BackupTrailer = z.infer<typeof trailerSchema>;

export function isSigned(cp: BackupCheckpoint): cp is z.infer<typeof signedCheckpointSchema> {
  return cp !== null && 'signature' in cp;
}
