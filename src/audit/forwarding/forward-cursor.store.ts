import type { EntityManager } from 'typeorm';

export interface ForwardCursor {
  lastSeq: number;
  lastCheckpointSeq: number;
  lastForwardedAt: Date | null;
  lastError: string | null;
  lastErrorAt: Date | null;
  failingSince: Date | null;
  alerted: boolean;
}

interface CursorRow {
  receiver: string;
  last_seq: string;
  last_checkpoint_seq: string;
  last_forwarded_at: Date | null;
  last_error: string | null;
  last_error_at: Date | null;
  failing_since: Date | null;
  alerted: boolean;
}

const fromRow = (r: CursorRow): ForwardCursor => ({
  lastSeq: Number(r.last_seq),
  lastCheckpointSeq: Number(r.last_checkpoint_seq),
  lastForwardedAt: r.last_forwarded_at,
  lastError: r.last_error,
  lastErrorAt: r.last_error_at,
  failingSince: r.failing_since,
  alerted: r.alerted,
});

const EMPTY: ForwardCursor = {
  lastSeq: 0,
  lastCheckpointSeq: 0,
  lastForwardedAt: null,
  lastError: null,
  lastErrorAt: null,
  failingSince: null,
  alerted: false,
};

/** The receivers' cursors in audit_forward_cursors (see its entity). */
export class ForwardCursorStore {
  constructor(private readonly manager: () => EntityManager) {}

  async load(receiver: string): Promise<ForwardCursor> {
    const rows = await this.manager().query<CursorRow[]>('SELECT * FROM audit_forward_cursors WHERE receiver = $1', [
      receiver,
    ]);
    return rows[0] ? fromRow(rows[0]) : { ...EMPTY };
  }

  async loadAll(receivers: string[]): Promise<Map<string, ForwardCursor>> {
    const rows = await this.manager().query<CursorRow[]>(
      'SELECT * FROM audit_forward_cursors WHERE receiver = ANY($1)',
      [receivers],
    );
    const found = new Map(rows.map((r) => [r.receiver, fromRow(r)]));
    return new Map(receivers.map((r) => [r, found.get(r) ?? { ...EMPTY }]));
  }

  /** Writes the cursor; the position never moves back (a replica that lost its lock may lag). */
  async save(receiver: string, c: ForwardCursor): Promise<void> {
    await this.manager().query(
      `INSERT INTO audit_forward_cursors
         (receiver, last_seq, last_checkpoint_seq, last_forwarded_at, last_error, last_error_at, failing_since, alerted)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (receiver) DO UPDATE SET
         last_seq = GREATEST(audit_forward_cursors.last_seq, EXCLUDED.last_seq),
         last_checkpoint_seq = GREATEST(audit_forward_cursors.last_checkpoint_seq, EXCLUDED.last_checkpoint_seq),
         last_forwarded_at = EXCLUDED.last_forwarded_at, last_error = EXCLUDED.last_error,
         last_error_at = EXCLUDED.last_error_at, failing_since = EXCLUDED.failing_since, alerted = EXCLUDED.alerted`,
      [
        receiver,
        c.lastSeq,
        c.lastCheckpointSeq,
        c.lastForwardedAt,
        c.lastError,
        c.lastErrorAt,
        c.failingSince,
        c.alerted,
      ],
    );
  }
}
