import { canonicalJson } from './audit-chain.js';
import { csvCell, FORMULA_STARTS } from './audit-csv.js';
import { BinaryCopyRows } from './binary-copy-rows.js';
import type { CopyBytes } from './export-copy.js';

/** How a column goes into the line: a JSON string, or text that already is JSON (a number, a list, details). */
type Kind = 'string' | 'json';

/**
 * The export's fields, in the order of both formats: the key, the column the COPY sends (as
 * text) and how it is written. The JSON line is byte for byte what json_build_object(...)::text
 * writes (the export's format until COPY: `{"seq" : 1, "recordedAt" : "...", ...}`), which
 * AuditExport's batch path still uses and the tests compare against.
 */
const FIELDS: [key: string, column: string, kind: Kind][] = [
  ['seq', 'seq::text', 'json'],
  ['recordedAt', `to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`, 'string'],
  ['eventType', 'event_type', 'string'],
  ['actorType', 'actor_type', 'string'],
  ['actorId', 'actor_id', 'string'],
  ['deviceId', 'device_id', 'string'],
  ['action', 'action', 'string'],
  ['remoteUser', 'remote_user', 'string'],
  ['outcome', 'outcome', 'string'],
  ['ruleIds', 'to_json(rule_ids)::text', 'json'],
  ['policyVersion', 'policy_version', 'string'],
  ['approvers', 'to_json(approvers)::text', 'json'],
  ['sourceAddress', 'source_address', 'string'],
  ['requestId', 'request_id', 'string'],
  ['details', 'details::text', 'json'],
  ['prevHash', 'prev_hash', 'string'],
  ['hash', 'hash', 'string'],
];

/** The columns of the COPY (in binary format) whose rows jsonLinesFromColumns() and csvFromColumns() write. */
export const JSON_LINE_COLUMNS = FIELDS.map(([, column]) => column).join(', ');

const KEYS = FIELDS.map(([key], i) => Buffer.from(`${i === 0 ? '{' : ', '}"${key}" : `));
const STRING = FIELDS.map(([, , kind]) => kind === 'string');
const NULL = Buffer.from('null');
const END = Buffer.from('}\n');
const HEX = Buffer.from('0123456789abcdef');
/** The two-character escapes of PostgreSQL's escape_json (others below 0x20 as \u00xx). */
const SHORT: Record<number, number> = { 8: 0x62, 12: 0x66, 10: 0x6e, 13: 0x72, 9: 0x74, 0x22: 0x22, 0x5c: 0x5c };
/** A field escaped at most 6 times longer (\u00xx for each byte). */
const GROWTH = 6;

/**
 * An output buffer for one piece of a COPY: rows are written into it byte by byte, and it
 * grows (rarely) when a row might not fit.
 */
class Output {
  buf = Buffer.alloc(0);
  at = 0;

  start(size: number) {
    this.buf = Buffer.allocUnsafe(size);
    this.at = 0;
  }

  room(need: number) {
    if (this.at + need <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(2 * this.buf.length, this.at + need));
    this.buf.copy(bigger, 0, 0, this.at);
    this.buf = bigger;
  }

  put(bytes: Buffer) {
    for (let i = 0; i < bytes.length; i++) this.buf[this.at++] = bytes[i];
  }

  done(): Buffer {
    return this.buf.subarray(0, this.at);
  }
}

/** The bytes a row of the COPY takes (its fields), to bound what it becomes. */
function rowBytes(starts: readonly number[], ends: readonly number[]): number {
  let n = 0;
  for (let f = 0; f < starts.length; f++) n += ends[f] - starts[f];
  return n;
}

/**
 * A COPY's pieces into `format`'s bytes: `writeRow` writes each whole row of a piece into one
 * output buffer (sized for the piece; it grows when a row might not fit); the end checks that
 * no row was left half-read (the stream was cut).
 */
function copyRowsAs(
  format: string,
  writeRow: (out: Output, buf: Buffer, starts: readonly number[], ends: readonly number[]) => void,
): CopyBytes {
  const rows = new BinaryCopyRows();
  const out = new Output();
  return {
    piece: (chunk) => {
      out.start(chunk.length * 2 + 4096);
      rows.push(chunk, (buf, starts, ends) => writeRow(out, buf, starts, ends));
      return out.done();
    },
    end: () => {
      if (!rows.complete) throw new Error(`The COPY of the ${format} export ended inside a row`);
    },
  };
}

/**
 * JSON lines from a binary COPY of JSON_LINE_COLUMNS. Why not json_build_object in the COPY:
 * making the JSON there took PostgreSQL ~7 µs of CPU a record (on one core per statement),
 * the columns alone ~2 µs; here it is a copy of the bytes with escape_json's escapes, byte by
 * byte (UTF-8 bytes of non-ASCII characters are all >= 0x80 and pass as they are).
 */
export function jsonLinesFromColumns(): CopyBytes {
  return copyRowsAs('JSON Lines', (out, buf, starts, ends) => {
    out.room(512 + GROWTH * rowBytes(starts, ends));
    const o = out.buf;
    let at = out.at;
    for (let f = 0; f < KEYS.length; f++) {
      const key = KEYS[f];
      for (let i = 0; i < key.length; i++) o[at++] = key[i];
      const start = starts[f];
      const end = ends[f];
      if (start < 0) for (let i = 0; i < NULL.length; i++) o[at++] = NULL[i];
      else if (!STRING[f]) for (let i = start; i < end; i++) o[at++] = buf[i];
      else {
        o[at++] = 0x22;
        for (let i = start; i < end; i++) {
          const b = buf[i];
          if (b >= 0x20 && b !== 0x22 && b !== 0x5c) o[at++] = b;
          else if (SHORT[b] !== undefined) {
            o[at++] = 0x5c;
            o[at++] = SHORT[b];
          } else {
            // \u00xx: lower-case hex, as PostgreSQL writes it.
            o[at++] = 0x5c;
            o[at++] = 0x75;
            o[at++] = 0x30;
            o[at++] = 0x30;
            o[at++] = HEX[b >> 4];
            o[at++] = HEX[b & 15];
          }
        }
        o[at++] = 0x22;
      }
    }
    out.at = at;
    out.put(END);
  });
}

const DETAILS = FIELDS.findIndex(([key]) => key === 'details');
const CSV_END = Buffer.from('\r\n');
/** The bytes of FORMULA_STARTS (csvCell's): a cell starting with one gets an apostrophe. */
const FORMULA = new Set(FORMULA_STARTS.map((c) => c.charCodeAt(0)));

/**
 * CSV rows (csvLine's bytes) from the same COPY: each cell as csvCell writes it, on the bytes
 * (what csvCell looks for is ASCII, which UTF-8 never uses inside a character); lists as the
 * JSON the database writes of them, which is canonicalJson's; details made canonical here
 * (sorted keys, numbers as JavaScript writes them: SQL cannot match canonicalJson).
 */
export function csvFromColumns(): CopyBytes {
  return copyRowsAs('CSV', (out, buf, starts, ends) => {
    const details =
      starts[DETAILS] < 0 ? null : (JSON.parse(buf.toString('utf8', starts[DETAILS], ends[DETAILS])) as unknown);
    const detailsCell = csvCell(canonicalJson(details));
    out.room(512 + 2 * rowBytes(starts, ends) + 3 * detailsCell.length);
    const o = out.buf;
    let at = out.at;
    for (let f = 0; f < FIELDS.length; f++) {
      if (f > 0) o[at++] = 0x2c;
      const start = starts[f];
      const end = ends[f];
      if (f === DETAILS) {
        at += o.write(detailsCell, at);
      } else if (start < 0) {
        // csvCell(null) is empty; canonicalJson(null), a missing list, is null.
        if (!STRING[f]) for (let i = 0; i < NULL.length; i++) o[at++] = NULL[i];
      } else {
        const apostrophe = end > start && FORMULA.has(buf[start]);
        let quoted = false;
        for (let i = start; i < end && !quoted; i++) {
          const b = buf[i];
          quoted = b === 0x22 || b === 0x2c || b === 0x0d || b === 0x0a;
        }
        if (quoted) o[at++] = 0x22;
        if (apostrophe) o[at++] = 0x27;
        for (let i = start; i < end; i++) {
          const b = buf[i];
          o[at++] = b;
          if (b === 0x22) o[at++] = 0x22;
        }
        if (quoted) o[at++] = 0x22;
      }
    }
    out.at = at;
    out.put(CSV_END);
  });
}
