import { Logger } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import type { Clock } from '../common/clock.js';
import { GroupCommitter } from '../common/group-commit.js';
import { contentJson, normalizeEvent, type AuditEvent, type ChainedRecord } from './audit-chain.js';

export class AuditUnavailableError extends Error {}

/**
 * Durable audit appends with group commit (see GroupCommitter): a caller's promise
 * resolves only after its record is committed.
 */
export class AuditWriter {
  private readonly logger = new Logger('AuditWriter');
  private readonly committer: GroupCommitter<Required<AuditEvent>, ChainedRecord>;

  constructor(
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
  ) {
    this.committer = new GroupCommitter(
      (events) => writeChained(this.dataSource.manager, events, this.clock.now()),
      (error) => {
        this.logger.error(`Audit append failed: ${error.message}`);
        return new AuditUnavailableError(`The audit record could not be written: ${error.message}`);
      },
    );
  }

  append(event: AuditEvent): Promise<ChainedRecord> {
    return this.committer.submit(normalizeEvent(event));
  }

  /** Waits for everything queued so far, then refuses new appends. */
  close(): Promise<void> {
    return this.committer.close();
  }
}

/**
 * Appends events to the chain: one statement (the database function audit_append, migration
 * OneTripCommits) that takes the chain lock, reads the head, hashes and inserts. Inside a
 * transaction the lock is held until that transaction ends, so keep such transactions short;
 * outside one the statement commits on its own.
 */
export async function writeChained(
  manager: EntityManager,
  events: Required<AuditEvent>[],
  recordedAt: Date,
): Promise<ChainedRecord[]> {
  const rows = await manager.query<{ out_seq: string; out_prev_hash: string; out_hash: string }[]>(
    "SELECT out_seq, out_prev_hash, out_hash FROM audit_append(string_to_array($1, E'\\n'), $2)",
    [contentLines(events), recordedAt.toISOString()],
  );
  return events.map((event, i) => ({
    ...event,
    seq: Number(rows[i].out_seq),
    recordedAt,
    prevHash: rows[i].out_prev_hash,
    hash: rows[i].out_hash,
  }));
}

/**
 * Chains audit records onto another module's one-statement write, in that same statement: the
 * write and its records commit together (one round trip, one commit), and only the audit
 * module's code calls audit_append. `write` is a SELECT whose rows tell what was written (the
 * CTE `written`); `contents` is a text[] SQL expression (it may read `written`) of the records'
 * content JSON, in chain order (contentLines, split); `recordedAt` the SQL text of the
 * recorded-at ISO parameter. The statement's rows are `written`'s, and one row of NULLs when
 * there are none: the append is on the preserved side of the outer join, so it always runs,
 * after `write` (its contents read `written`).
 */
export function auditedStatement(write: string, contents: string, recordedAt: string): string {
  return `WITH written AS MATERIALIZED (${write}),
    audited AS MATERIALIZED (SELECT count(*) AS appended FROM audit_append(${contents}, ${recordedAt}))
    SELECT written.* FROM audited LEFT JOIN written ON true`;
}

/**
 * As auditedStatement, but the records go into the audit inbox (audit_enqueue, migration
 * AuditInbox), not straight into the chain: no chain lock, so such statements commit in
 * parallel. They are durable when the statement commits; AuditSealer chains them shortly
 * after, in the order given (the caller wakes it: AuditService.sealSoon), and readers of the
 * trail wait for that (AuditService.sealPending). Decisions use it: their answers no longer
 * queue behind one commit at a time.
 */
export function queuedStatement(write: string, contents: string, recordedAt: string): string {
  return `WITH written AS MATERIALIZED (${write}),
    queued AS MATERIALIZED (SELECT audit_enqueue(${contents}, ${recordedAt}) AS queued)
    SELECT written.* FROM queued LEFT JOIN written ON true`;
}

/**
 * The events' content JSON as one parameter, a line each, for string_to_array — the
 * driver escapes a text[] element by element (quotes and backslashes: much of a JSON text;
 * ~2% of the server's CPU on decisions). Canonical JSON never holds a line break (JSON
 * escapes it inside strings and canonicalJson adds no whitespace): audit-chain.spec checks.
 */
export function contentLines(events: Required<AuditEvent>[]): string {
  return events.map(contentJson).join('\n');
}
