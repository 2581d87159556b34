import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { canonicalJson, GENESIS_HASH, hashRecord, normalizeEvent } from './audit-chain.js';

const event = normalizeEvent({
  eventType: 'auth.login',
  actorType: 'user',
  actorId: 'alice',
  details: { b: 1, a: [2, { d: 3, c: 4 }] },
});
const at = new Date('2026-11-23T10:00:00.123Z');

describe('audit chain', () => {
  it('writes JSON with sorted keys at every level', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[1,{"y":2,"z":1}]},"b":1}',
    );
  });

  it('changes the hash when any part of the record changes', () => {
    const base = hashRecord(5, at, event, GENESIS_HASH);
    expect(hashRecord(5, at, event, GENESIS_HASH)).toBe(base);
    expect(hashRecord(6, at, event, GENESIS_HASH)).not.toBe(base);
    expect(hashRecord(5, new Date(at.getTime() + 1), event, GENESIS_HASH)).not.toBe(base);
    expect(hashRecord(5, at, { ...event, outcome: 'failure' }, GENESIS_HASH)).not.toBe(base);
    expect(hashRecord(5, at, { ...event, details: { b: 2, a: [2, { d: 3, c: 4 }] } }, GENESIS_HASH)).not.toBe(base);
    expect(hashRecord(5, at, event, 'f'.repeat(64))).not.toBe(base);
  });

  it('hashes the same content alike whatever the key order', () => {
    const reordered = normalizeEvent({ ...event, details: { a: [2, { c: 4, d: 3 }], b: 1 } });
    expect(hashRecord(1, at, reordered, GENESIS_HASH)).toBe(hashRecord(1, at, event, GENESIS_HASH));
  });
});

/** The first canonicalJson, which was given values after a JSON round trip (keeps old chains verifiable). */
const first = (value: unknown): string => {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(first).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${first(obj[k])}`).join(',')}}`;
};

/** The JSON round trip (NUL and lone surrogates replaced) that normalizeEvent once made of details. */
const noNul = (s: string) => s.toWellFormed().replaceAll('\u0000', '\uFFFD');
const viaText = (v: unknown): unknown =>
  JSON.parse(
    JSON.stringify(v, function (this: Record<string, unknown>, _k, value: unknown) {
      if (typeof value === 'string') return noNul(value);
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
        return Object.fromEntries(Object.entries(value).map(([k, x]) => [noNul(k), x]));
      }
      return value;
    }) ?? 'null',
  );

describe('canonicalJson', () => {
  it('gives the text the first implementation gave (records already chained still verify)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(canonicalJson(value)).toBe(first(value));
      }),
      { numRuns: 1000 },
    );
  });

  it('never writes a line break (contentLines joins records with one)', () => {
    fc.assert(
      fc.property(fc.anything({ withDate: true, withNullPrototype: true }), fc.string(), (value, s) => {
        expect(canonicalJson({ value, s: `${s}\n\r\u2028` })).not.toContain('\n');
      }),
      { numRuns: 500 },
    );
  });

  it('writes any value as its JSON round trip (NUL replaced) would be written', () => {
    fc.assert(
      fc.property(fc.anything({ withDate: true, withNullPrototype: true, withSparseArray: true }), (value) => {
        expect(canonicalJson({ value })).toBe(first(viaText({ value })));
      }),
      { numRuns: 1000 },
    );
    expect(canonicalJson({ b: 'x\u0000', ['k\u0000']: [undefined, () => 1, NaN, -0], a: new Date(0) })).toBe(
      '{"a":"1970-01-01T00:00:00.000Z","b":"x\uFFFD","k\uFFFD":[null,null,null,0]}',
    );
    // PostgreSQL's JSON refuses a lone surrogate (JSON.stringify writes it as \ud800): replaced too.
    expect(canonicalJson({ a: 'x\ud800', ['\udc00']: 1 })).toBe('{"a":"x\uFFFD","\uFFFD":1}');
  });
});
