import type pg from 'pg';
import copyStreams from 'pg-copy-streams';
import type { DataSource } from 'typeorm';

/** Turns a COPY's output, piece by piece, into the export's bytes; `end` checks that it ended whole. */
export interface CopyBytes {
  piece(chunk: Buffer): Buffer;
  end?(): void;
}

/**
 * Runs one `COPY (...) TO STDOUT` on a pooled connection of its own and reads all of it, as
 * fast as the database sends it; `bytes` turns it into the export's bytes. Read whole, then
 * the connection goes back to the pool: the statement (and its snapshot) lasts as long as the
 * database takes to write it, never as long as a slow client takes to download; memory holds
 * one COPY's output, which the caller bounds by the rows it asks for.
 */
export async function copyOut(dataSource: DataSource, sql: string, bytes: CopyBytes): Promise<Buffer[]> {
  const runner = dataSource.createQueryRunner();
  let failure: Error | undefined;
  try {
    const client = (await runner.connect()) as pg.PoolClient;
    const chunks: Buffer[] = [];
    for await (const chunk of client.query(copyStreams.to(sql)) as AsyncIterable<Buffer>) {
      const out = bytes.piece(chunk);
      if (out.length > 0) chunks.push(out);
    }
    bytes.end?.();
    return chunks;
  } catch (error) {
    failure = error as Error;
    throw error;
  } finally {
    // A connection left in the middle of a COPY must not serve anyone else: given the error,
    // the pool closes it rather than reusing it.
    if (failure) await (runner as unknown as PostgresRunner).releasePostgresConnection(failure);
    else await runner.release();
  }
}

/** TypeORM's PostgreSQL query runner: its release that hands the pool the error. */
interface PostgresRunner {
  releasePostgresConnection(error: Error): Promise<void>;
}

/** A date as an SQL literal (COPY takes no bound parameters): the instant in ISO form, quoted. */
export const timestampLiteral = (iso: string) => `'${new Date(iso).toISOString()}'::timestamptz`;
