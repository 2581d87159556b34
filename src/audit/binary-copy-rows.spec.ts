import { describe, expect, it } from '@jest/globals';
import { BinaryCopyRows } from './binary-copy-rows.js';

/** A binary COPY as PostgreSQL writes it (with a header extension, to be skipped). */
function binaryCopy(rows: (string | null)[][]): Buffer {
  const parts = [Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), int32(0), int32(3), Buffer.from('ext')];
  for (const row of rows) {
    parts.push(int16(row.length));
    for (const value of row) {
      if (value === null) parts.push(int32(-1));
      else parts.push(int32(Buffer.byteLength(value)), Buffer.from(value));
    }
  }
  parts.push(int16(-1));
  return Buffer.concat(parts);
}
const int16 = (n: number) => Buffer.from([(n >> 8) & 0xff, n & 0xff]);
function int32(n: number) {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
}

function read(pieces: Buffer[]) {
  const reader = new BinaryCopyRows();
  const rows: (string | null)[][] = [];
  for (const piece of pieces)
    reader.push(piece, (buf, starts, ends) =>
      rows.push(starts.map((s, i) => (s < 0 ? null : buf.toString('utf8', s, ends[i])))),
    );
  return { rows, complete: reader.complete };
}

const ROWS = [
  ['1', 'line one\nline "two", with a comma\\', null],
  ['2', '', 'Grüße ✓ \t\r\u0001'],
  ['3', null, '{"a": "\\\\"}'],
];

describe('BinaryCopyRows', () => {
  it('reads every field as it was, NULL as NULL, in one piece', () => {
    expect(read([binaryCopy(ROWS)])).toEqual({ rows: ROWS, complete: true });
  });

  it('reads the same rows however the stream splits them (at every byte, in two and byte by byte)', () => {
    const whole = binaryCopy(ROWS);
    for (let cut = 1; cut < whole.length; cut++) {
      expect(read([whole.subarray(0, cut), whole.subarray(cut)])).toEqual({ rows: ROWS, complete: true });
    }
    const bytes = [...whole].map((b) => Buffer.from([b]));
    expect(read(bytes)).toEqual({ rows: ROWS, complete: true });
  });

  it('is not complete when the stream stops inside a row', () => {
    const whole = binaryCopy(ROWS);
    const { rows, complete } = read([whole.subarray(0, whole.length - 6)]);
    expect(rows).toEqual(ROWS.slice(0, 2));
    expect(complete).toBe(false);
  });
});
