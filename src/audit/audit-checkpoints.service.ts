import { Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Clock } from '../common/clock.js';
import { SigningKeysService } from '../signing/signing-keys.service.js';
import { checkpointSignatureValid, type SignedCheckpoint } from './checkpoint-format.js';
import { AuditSealer } from './sealer/audit-sealer.js';

interface CheckpointRow {
  seq: string;
  hash: string;
  at: Date;
  key_id: string;
  signature: string;
}

const fromRow = (r: CheckpointRow): SignedCheckpoint => ({
  seq: Number(r.seq),
  hash: r.hash,
  at: r.at.toISOString(),
  keyId: r.key_id,
  signature: r.signature,
});

/** Signed checkpoints of the chain's head, kept in audit_checkpoints (see its entity). */
@Injectable()
export class AuditCheckpointsService {
  private readonly logger = new Logger('AuditCheckpoints');

  constructor(
    private readonly dataSource: DataSource,
    private readonly keys: SigningKeysService,
    private readonly clock: Clock,
    private readonly sealer: AuditSealer,
  ) {}

  async latest(): Promise<SignedCheckpoint | null> {
    const rows = await this.dataSource.query<CheckpointRow[]>(
      'SELECT seq, hash, at, key_id, signature FROM audit_checkpoints ORDER BY seq DESC LIMIT 1',
    );
    return rows[0] ? fromRow(rows[0]) : null;
  }

  /**
   * Signs the chain's head as a new checkpoint; the latest one when the head has not moved
   * (null with an empty chain). A head BEHIND the latest checkpoint means records were
   * removed: that is never signed (it would bless the removal); verify reports it.
   */
  async create(): Promise<SignedCheckpoint | null> {
    // The decisions already answered are in the head it signs.
    await this.sealer.sealPending();
    const [head] = await this.dataSource.query<{ seq: string; hash: string }[]>(
      'SELECT seq, hash FROM audit_records ORDER BY seq DESC LIMIT 1',
    );
    const latest = await this.latest();
    if (!head) return latest;
    const seq = Number(head.seq);
    if (latest && seq <= latest.seq) {
      if (seq < latest.seq) {
        this.logger.error(`The audit chain ends at ${seq}, before checkpoint ${latest.seq}: records were removed`);
      }
      return latest;
    }
    const cp = await this.keys.sign({ seq, hash: head.hash, at: this.clock.now().toISOString() });
    // Replicas may checkpoint the same head at once: the first one stays.
    await this.dataSource.query(
      `INSERT INTO audit_checkpoints (seq, hash, at, key_id, signature) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (seq) DO NOTHING`,
      [cp.seq, cp.hash, cp.at, cp.keyId, cp.signature],
    );
    return this.latest();
  }

  /** Whether one of this appliance's keys signed the checkpoint. */
  async signatureValid(cp: SignedCheckpoint): Promise<boolean> {
    return checkpointSignatureValid(cp, await this.keys.publicKeys());
  }
}
