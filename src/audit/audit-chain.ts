import { createHash } from 'node:crypto';

/** What a caller records; the chain adds seq, time and hashes. */
export interface AuditEvent {
  eventType: string;
  actorType: 'user' | 'device' | 'system' | 'anonymous';
  actorId?: string | null;
  deviceId?: string | null;
  action?: string | null;
  remoteUser?: string | null;
  outcome?: string | null;
  ruleIds?: string[];
  policyVersion?: string | null;
  approvers?: string[];
  sourceAddress?: string | null;
  requestId?: string | null;
  details?: Record<string, unknown>;
}

export interface ChainedRecord extends Required<AuditEvent> {
  seq: number;
  recordedAt: Date;
  prevHash: string;
  hash: string;
}

/** The hash that precedes the first record. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * JSON with object keys sorted at every level, so the same content always hashes alike.
 * (Built with string appends rather than map/filter/join: this runs for every decision.)
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + canonicalJson(value[i]);
    return out + ']';
  }
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).sort();
  let out = '{';
  for (const key of keys) {
    const v = obj[key];
    if (v === undefined) continue;
    out += (out.length === 1 ? '' : ',') + JSON.stringify(key) + ':' + canonicalJson(v);
  }
  return out + '}';
}

/** PostgreSQL text and jsonb cannot hold NUL: a record must never fail to be written because of what a client sent. */
// eslint-disable-next-line no-control-regex -- NUL is exactly what must be removed
const clean = <T extends string | null>(s: T): T => (s === null ? s : (s.replace(/\u0000/g, '\uFFFD') as T));

/**
 * The value as a JSON round trip (and so jsonb storage) would give it back: toJSON honoured,
 * undefined and functions dropped (null in arrays), non-finite numbers null; and NUL
 * replaced in strings and keys. Without the text in between: JSON.stringify + JSON.parse
 * were ~5% of the server's CPU on the decision endpoint.
 */
export function jsonCopy(value: unknown): unknown {
  switch (typeof value) {
    case 'string':
      return clean(value);
    case 'number':
      return Number.isFinite(value) ? value + 0 : null; // + 0: -0 reads back as 0
    case 'boolean':
      return value;
    case 'bigint':
      throw new TypeError('a BigInt cannot be recorded as JSON');
    case 'object': {
      if (value === null) return null;
      const json = (value as { toJSON?: unknown }).toJSON;
      if (typeof json === 'function') return jsonCopy((json as () => unknown).call(value));
      if (Array.isArray(value)) return Array.from(value as unknown[], (v) => jsonCopy(v) ?? null); // holes too
      const copy: Record<string, unknown> = {};
      for (const key of Object.keys(value)) {
        const v = jsonCopy((value as Record<string, unknown>)[key]);
        // defineProperty: a key named "__proto__" stays a plain key, as JSON.parse makes it.
        if (v !== undefined)
          Object.defineProperty(copy, clean(key), { value: v, enumerable: true, writable: true, configurable: true });
      }
      return copy;
    }
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
  }
}

export function normalizeEvent(event: AuditEvent): Required<AuditEvent> {
  const e = {
    eventType: event.eventType,
    actorType: event.actorType,
    actorId: event.actorId ?? null,
    deviceId: event.deviceId ?? null,
    action: event.action ?? null,
    remoteUser: event.remoteUser ?? null,
    outcome: event.outcome ?? null,
    ruleIds: event.ruleIds ?? [],
    policyVersion: event.policyVersion ?? null,
    approvers: event.approvers ?? [],
    sourceAddress: event.sourceAddress ?? null,
    requestId: event.requestId ?? null,
    details: event.details ? (jsonCopy(event.details) as Record<string, unknown>) : {},
  };
  const normalized = {
    ...e,
    actorId: clean(e.actorId),
    deviceId: clean(e.deviceId),
    action: clean(e.action),
    remoteUser: clean(e.remoteUser),
    outcome: clean(e.outcome),
    policyVersion: clean(e.policyVersion),
    sourceAddress: clean(e.sourceAddress),
    requestId: clean(e.requestId),
    ruleIds: e.ruleIds.map(clean),
    approvers: e.approvers.map(clean),
  };
  // Done here, in the caller's time, rather than while the chain lock is held.
  contentJson(normalized);
  return normalized;
}

/** The canonical JSON of an event's content, computed once per normalized event. */
const contentCache = new WeakMap<object, string>();

export function contentJson(event: Required<AuditEvent>): string {
  let json = contentCache.get(event);
  if (json === undefined) {
    json = canonicalJson([
      event.eventType,
      event.actorType,
      event.actorId,
      event.deviceId,
      event.action,
      event.remoteUser,
      event.outcome,
      event.ruleIds,
      event.policyVersion,
      event.approvers,
      event.sourceAddress,
      event.requestId,
      event.details,
    ]);
    contentCache.set(event, json);
  }
  return json;
}

/**
 * The hash covers the record's position, time, every content field and the previous
 * hash, so a changed, removed or reordered record breaks the chain from there on.
 * (The content's JSON is prepared before the chain lock is taken: see normalizeEvent.)
 */
export function hashRecord(seq: number, recordedAt: Date, event: Required<AuditEvent>, prevHash: string): string {
  return createHash('sha256')
    .update(`${prevHash}\n${seq}\n${recordedAt.toISOString()}\n`)
    .update(contentJson(event))
    .digest('hex');
}

/** Links events onto the chain after (headSeq, headHash). */
export function chain(
  events: Required<AuditEvent>[],
  headSeq: number,
  headHash: string,
  recordedAt: Date,
): ChainedRecord[] {
  let prevHash = headHash;
  return events.map((event, i) => {
    const seq = headSeq + i + 1;
    const hash = hashRecord(seq, recordedAt, event, prevHash);
    const record: ChainedRecord = { ...event, seq, recordedAt, prevHash, hash };
    prevHash = hash;
    return record;
  });
}
