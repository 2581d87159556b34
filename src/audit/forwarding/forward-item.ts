import { fromRow, type AuditRow } from '../audit-row.js';
import type { ChainedRecord } from '../audit-chain.js';
import type { SignedCheckpoint } from '../checkpoint-format.js';

/**
 * What goes to a SIEM: an audit record (with its seq and prevHash, so that a gap or a
 * removed record shows there), or a signed checkpoint of the chain, which is kept outside the
 * trail (audit_checkpoints) and is sent as its own event type, after the record it vouches for.
 */
export type ForwardItem =
  { kind: 'record'; record: ChainedRecord } | { kind: 'checkpoint'; checkpoint: SignedCheckpoint };

/**
 * An item as the forwarder reads it and hands it to a transport: a record is still its row's
 * JSON text (PostgreSQL's `to_json`). The transport thread parses it (fromWire), so the
 * thread that answers decisions only moves strings (see transport-thread.ts).
 */
export type WireItem = { kind: 'record'; row: string } | { kind: 'checkpoint'; checkpoint: SignedCheckpoint };

/** A wire item as a forward item: the row's JSON parsed as the pg driver would have read it. */
export function fromWire(item: WireItem): ForwardItem {
  if (item.kind === 'checkpoint') return item;
  const row = JSON.parse(item.row) as Omit<AuditRow, 'recorded_at'> & { recorded_at: string };
  return { kind: 'record', record: fromRow({ ...row, recorded_at: new Date(row.recorded_at) }) };
}

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
