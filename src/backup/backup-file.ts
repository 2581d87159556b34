import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, rmSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip, createGzip } from 'node:zlib';
import { z } from 'zod';
import {
  backupHeaderSchema,
  tableLineSchema,
  trailerSchema,
  type BackupHeader,
  type BackupTrailer,
} from './backup-format.js';

/** Progress of a backup or restore: a table started, or more of its rows done. */
export type Progress = (table: string, done: number, of: number) => void;

/**
 * Writes the lines (header, tables, rows, as snapshotLines yields them) gzip-compressed, adds
 * the trailer, and only then renames the file into place: a crash or a broken stream leaves
 * no file that looks like a backup. Mode 0600 from the start: it holds password hashes and
 * secrets. Refuses lines that stop short of what the header announced (a server that died
 * while streaming its backup).
 */
export async function writeBackupFile(
  path: string,
  lines: AsyncIterable<string> | Iterable<string>,
  progress?: Progress,
): Promise<{ header: BackupHeader; trailer: BackupTrailer }> {
  const target = resolve(path);
  const temp = join(dirname(target), `.${basename(target)}.${process.pid}.partial`);
  const digest = createHash('sha256');
  const check = new StructureCheck();
  let header: BackupHeader | undefined;
  async function* withTrailer(): AsyncGenerator<string> {
    for await (const line of lines) {
      const parsed = check.line(line, progress);
      if (check.lines === 1) header = parsed as BackupHeader;
      const text = `${line}\n`;
      digest.update(text);
      yield text;
    }
    check.finish();
    yield `${JSON.stringify(trailerOf(check, digest))}\n`;
  }
  try {
    await pipeline(Readable.from(withTrailer()), createGzip(), createWriteStream(temp, { mode: 0o600, flags: 'wx' }));
    const handle = await open(temp, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, target);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
  return { header: header!, trailer: trailerOf(check, digest) };
}

function trailerOf(check: StructureCheck, digest: ReturnType<typeof createHash>): BackupTrailer {
  return { end: true, tables: check.tablesSeen, rows: check.rowsSeen, sha256: digest.copy().digest('hex') };
}

/** A backup line by line, whole or refused: see readBackup. */
export interface BackupReader {
  header: BackupHeader;
  /** Each table's rows in batches (raw JSON of each row), in file order. */
  tables(batchRows: number): AsyncGenerator<{ table: string; rows: string[] }>;
}

/**
 * Opens a backup file: reads it once through to check it is whole (gzip's own check, the
 * structure, the trailer's SHA-256 of every line) before the caller writes anything, then
 * gives its tables for loading (a second read, checked again).
 */
export async function readBackup(path: string): Promise<BackupReader & { trailer: BackupTrailer }> {
  let header: BackupHeader | undefined;
  let trailer: BackupTrailer | undefined;
  for await (const item of parse(path)) {
    if (item.kind === 'header') header = item.header;
    if (item.kind === 'end') trailer = item.trailer;
  }
  return {
    header: header!,
    trailer: trailer!,
    async *tables(batchRows) {
      let batch: { table: string; rows: string[] } | undefined;
      for await (const item of parse(path)) {
        if (item.kind === 'table' || item.kind === 'end') {
          if (batch) yield batch;
          batch = item.kind === 'table' ? { table: item.table, rows: [] } : undefined;
        } else if (item.kind === 'row') {
          batch!.rows.push(item.row);
          if (batch!.rows.length >= batchRows) {
            yield batch!;
            batch = { table: batch!.table, rows: [] };
          }
        }
      }
    },
  };
}

type Item =
  | { kind: 'header'; header: BackupHeader }
  | { kind: 'table'; table: string; rows: number }
  | { kind: 'row'; row: string }
  | { kind: 'end'; trailer: BackupTrailer };

async function* parse(path: string): AsyncGenerator<Item> {
  const digest = createHash('sha256');
  const check = new StructureCheck();
  let trailer: BackupTrailer | undefined;
  const damaged = (why: string) =>
    new Error(
      `${path} is not a whole Gatehouse backup: ${why}. Nothing was restored; use an intact copy of the backup.`,
    );
  try {
    for await (const line of lines(createReadStream(path).pipe(createGunzip()))) {
      if (trailer) throw damaged(`there is more after its last line (line ${check.lines + 2})`);
      if (check.complete) {
        trailer = parseLine(trailerSchema, line, 'the last line');
        if (trailer.sha256 !== digest.copy().digest('hex') || trailer.rows !== check.rowsSeen) {
          throw damaged('its content does not match the checksum in its last line (it was changed)');
        }
        yield { kind: 'end', trailer };
        continue;
      }
      const parsed = check.line(line);
      digest.update(`${line}\n`);
      if (check.lines === 1) yield { kind: 'header', header: parsed as BackupHeader };
      else if (parsed) yield { kind: 'table', table: (parsed as { table: string }).table, rows: 0 };
      else yield { kind: 'row', row: line };
    }
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') throw new Error(`${path}: no such file`, { cause: error });
    if (e.code?.startsWith('Z_') || e.message.startsWith('unexpected end of file')) {
      throw damaged(
        `the compressed data is ${e.message.includes('end of file') ? 'cut short' : 'damaged'} (${e.message})`,
      );
    }
    if (error instanceof BackupStructureError) throw damaged(error.message);
    throw error;
  }
  if (!trailer) throw damaged('it ends before its last line (the file was cut short)');
}

class BackupStructureError extends Error {}

function parseLine<T>(schema: z.ZodType<T>, line: string, what: string): T {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    throw new BackupStructureError(`${what} is not JSON`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(line)'}: ${i.message}`);
    throw new BackupStructureError(`${what} is not what a backup has there (${problems.join('; ')})`);
  }
  return parsed.data;
}

/**
 * Follows the lines: the header first, then each table it lists, in its order, with exactly
 * the rows it counted. Returns the header or a table line when the line is one (undefined for
 * a row).
 */
class StructureCheck {
  lines = 0;
  tablesSeen = 0;
  rowsSeen = 0;
  private header?: BackupHeader;
  private left = 0;

  line(line: string, progress?: Progress): BackupHeader | z.infer<typeof tableLineSchema> | undefined {
    this.lines++;
    if (!this.header) {
      if (!line.startsWith('{"format":"gatehouse-backup"')) {
        throw new BackupStructureError('its first line is not a Gatehouse backup header');
      }
      this.header = parseLine(backupHeaderSchema, line, 'the header');
      return this.header;
    }
    if (this.left > 0) {
      this.left--;
      this.rowsSeen++;
      const table = this.header.tables[this.tablesSeen - 1];
      if (progress && (this.left === 0 || (table.rows - this.left) % 5000 === 0))
        progress(table.name, table.rows - this.left, table.rows);
      return undefined;
    }
    const next = parseLine(tableLineSchema, line, `line ${this.lines}`);
    const expected = this.header.tables[this.tablesSeen];
    if (!expected || next.table !== expected.name || next.rows !== expected.rows) {
      throw new BackupStructureError(
        `line ${this.lines} starts table ${next.table} (${next.rows} rows) where the header lists ` +
          (expected ? `${expected.name} (${expected.rows} rows)` : 'no more tables'),
      );
    }
    this.tablesSeen++;
    this.left = next.rows;
    if (progress && next.rows === 0) progress(next.table, 0, 0);
    return next;
  }

  /** Every table and row the header announced has been seen: the trailer comes next. */
  get complete(): boolean {
    return this.header !== undefined && this.left === 0 && this.tablesSeen === this.header.tables.length;
  }

  finish(): void {
    if (!this.header) throw new BackupStructureError('it has no header');
    if (this.left > 0 || this.tablesSeen < this.header.tables.length) {
      const table = this.header.tables[Math.max(0, this.tablesSeen - (this.left > 0 ? 1 : 0))];
      throw new BackupStructureError(`it stops inside or before table ${table?.name ?? '?'} (rows are missing)`);
    }
  }
}

/** Lines of a text stream; errors of the stream (gzip's) are thrown, not swallowed. */
async function* lines(stream: AsyncIterable<Buffer>): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8'); // a character may span two chunks
  let rest = '';
  for await (const chunk of stream) {
    const text = rest + decoder.write(chunk);
    const parts = text.split('\n');
    rest = parts.pop()!;
    yield* parts;
  }
  rest += decoder.end();
  if (rest.length > 0) yield rest;
}
