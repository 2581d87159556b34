import type { AuditCheckpointsService } from '../audit/audit-checkpoints.service.js';
import type { SignedCheckpoint } from '../audit/checkpoint-format.js';

/**
 * The checkpoint a report is built against: the latest signed one if it reaches `seq` (the
 * report's last record), else one taken now (it signs the head, at or after `seq`).
 */
export async function coveringCheckpoint(
  checkpoints: AuditCheckpointsService,
  seq: number,
): Promise<SignedCheckpoint | null> {
  const latest = await checkpoints.latest();
  if (latest && latest.seq >= seq) return latest;
  return checkpoints.create();
}
