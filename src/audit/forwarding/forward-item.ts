import type { ChainedRecord } from '../audit-chain.js';
import type { SignedCheckpoint } from '../checkpoint-format.js';

/**
 * What goes to a SIEM: an audit record (with its seq and prevHash, so that a gap or a
 * removed record shows there), or a signed checkpoint of the chain, which is kept outside the
 * trail (audit_checkpoints) and is sent as its own event type, after the record it vouches for.
 */
export type ForwardItem =
  { kind: 'record'; record: ChainedRecord } | { kind: 'checkpoint'; checkpoint: SignedCheckpoint };

/** The event type of a forwarded checkpoint (no audit record has it). */
export const CHECKPOINT_EVENT = 'audit.checkpoint';

export const eventTypeOf = (item: ForwardItem): string =>
  item.kind === 'record' ? item.record.eventType : CHECKPOINT_EVENT;

export const timeOf = (item: ForwardItem): Date =>
  item.kind === 'record' ? item.record.recordedAt : new Date(item.checkpoint.at);

/** The item as a JSON object: the record's fields as the audit API gives them, or the checkpoint. */
export function itemJson(item: ForwardItem): Record<string, unknown> {
  if (item.kind === 'checkpoint') return { eventType: CHECKPOINT_EVENT, checkpoint: item.checkpoint };
  return { ...item.record, recordedAt: item.record.recordedAt.toISOString() };
}
