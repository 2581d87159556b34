import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Clock } from '../common/clock.js';
import { AuditCheckpointsService } from './audit-checkpoints.service.js';
import { AuditSealer, type SealLag } from './sealer/audit-sealer.js';
import { verifyAuditChain, type ChainPoint, type VerifyResult } from './audit-verifier.js';
import type { SignedCheckpoint } from './checkpoint-format.js';
import { VerifyWorker } from './verify-worker-pool.js';

/** A checkpoint a verification was checked against, and where it came from. */
export interface CheckedCheckpoint extends ChainPoint {
  source: 'stored' | 'request' | 'file';
  at?: string;
}

export interface RunInfo {
  mode: 'full' | 'incremental';
  /** The run started after this record (0: from the first). */
  fromSeq: number;
  checked: number;
  startedAt: string;
  finishedAt?: string;
}

export type IntegrityResult = VerifyResult & { checkpoints: CheckedCheckpoint[]; run: RunInfo; sealLag: SealLag };

export interface IntegrityRequest {
  /** A checkpoint the caller kept (API query), taken as given. */
  point?: ChainPoint;
  /** A signed checkpoint (a file): its signature must be one of this appliance's keys. */
  signed?: SignedCheckpoint;
  /** Walk the whole chain, not only what was appended since the last good verification. */
  full?: boolean;
  onProgress?: (checked: number) => void;
}

interface Run {
  info: RunInfo;
  result: Promise<VerifyResult>;
}

/**
 * Verifies the chain, one run at a time (callers during a run share it), incrementally from
 * the last point this process verified (the hashing in a worker thread, so decisions are not
 * held up), then checks that the verified chain still reaches the latest stored checkpoint
 * (signature checked first) and any checkpoint the caller brings. The last verified point is
 * kept in memory only: a copy in the database could be moved by the people it guards against.
 */
@Injectable()
export class AuditIntegrityService implements OnApplicationShutdown {
  private readonly worker = new VerifyWorker();
  private running: Run | undefined;
  private lastVerified: (ChainPoint & { at: string }) | undefined;
  private lastRun: RunInfo | undefined;

  constructor(
    private readonly dataSource: DataSource,
    private readonly checkpoints: AuditCheckpointsService,
    private readonly clock: Clock,
    private readonly sealer: AuditSealer,
  ) {}

  /** The run in progress (with its count so far), the last one, and the last verified point. */
  status() {
    return {
      running: this.running?.info ?? null,
      lastRun: this.lastRun ?? null,
      lastVerified: this.lastVerified ?? null,
    };
  }

  async verify(request: IntegrityRequest = {}): Promise<IntegrityResult> {
    // The records of decisions already answered are walked too: seal them first (read barrier).
    const sealLag = await this.sealer.lag();
    await this.sealer.sealPending();
    const against: CheckedCheckpoint[] = [];
    const stored = await this.checkpoints.latest();
    for (const [cp, source] of [
      [stored, 'stored'],
      [request.signed, 'file'],
    ] as const) {
      if (!cp) continue;
      const checked: CheckedCheckpoint = { seq: cp.seq, hash: cp.hash, at: cp.at, source };
      against.push(checked);
      if (!(await this.checkpoints.signatureValid(cp))) {
        const reason =
          `${describe(checked)} is not signed by any of this appliance's keys (key ${cp.keyId}): ` +
          (source === 'stored' ? 'the stored checkpoints were changed' : 'the file was changed or is from elsewhere');
        const run = { mode: 'full' as const, fromSeq: 0, checked: 0, startedAt: this.clock.now().toISOString() };
        return { ok: false, records: 0, firstBadSeq: cp.seq, reason, checkpoints: against, run, sealLag };
      }
    }
    if (request.point) against.push({ ...request.point, source: 'request' });
    const run = this.running ?? this.start(request);
    const chain = await run.result;
    const result = chain.ok ? ((await this.checkReached(chain, against)) ?? chain) : chain;
    return { ...result, checkpoints: against, run: run.info, sealLag };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.worker.close();
  }

  private start(request: IntegrityRequest): Run {
    let from = request.full ? undefined : this.lastVerified;
    const info: RunInfo = {
      mode: from ? 'incremental' : 'full',
      fromSeq: from?.seq ?? 0,
      checked: 0,
      startedAt: this.clock.now().toISOString(),
    };
    const result = (async (): Promise<VerifyResult> => {
      // The last verified record must still be there, unchanged: a rewrite or removal that ends
      // at or before it would go unseen by a walk that starts after it. If not, walk it all.
      if (from) {
        const [row] = await this.dataSource.query<{ hash: string }[]>('SELECT hash FROM audit_records WHERE seq = $1', [
          from.seq,
        ]);
        if (row?.hash !== from.hash) {
          from = undefined;
          Object.assign(info, { mode: 'full', fromSeq: 0 });
        }
      }
      return verifyAuditChain(this.dataSource, {
        from,
        hasher: (records) => this.worker.hash(records),
        onProgress: (n) => {
          info.checked = n;
          request.onProgress?.(n);
        },
      });
    })();
    const run: Run = { info, result };
    this.running = run;
    void result
      .then(
        (r) => {
          // A failure forgets the verified point: the next run walks the whole chain again.
          this.lastVerified = r.ok && r.head ? { ...r.head, at: this.clock.now().toISOString() } : undefined;
        },
        () => undefined,
      )
      .finally(() => {
        info.finishedAt = this.clock.now().toISOString();
        this.lastRun = info;
        this.running = undefined;
      });
    return run;
  }

  /** After a good walk to `head`: is each checkpoint's record there with that hash? */
  private async checkReached(
    { head, prunedThrough = 0 }: { head: ChainPoint | null; prunedThrough?: number },
    against: CheckedCheckpoint[],
  ): Promise<VerifyResult | null> {
    const headSeq = head?.seq ?? 0;
    for (const cp of [...against].sort((a, b) => a.seq - b.seq)) {
      if (cp.seq <= prunedThrough) {
        // Its record is in an archive now: that file, not the database, can be checked against it.
        const reason = `${describe(cp)} is of a pruned record (records up to ${prunedThrough} were archived): verify the archive against it with audit:verify --file`;
        return { ok: false, records: headSeq, firstBadSeq: cp.seq, reason, prunedThrough };
      }
      if (cp.seq > headSeq) {
        const reason = `the chain ends at record ${headSeq}, before ${describe(cp)}: records ${headSeq + 1} to ${cp.seq} or more were removed`;
        return { ok: false, records: headSeq, firstBadSeq: headSeq + 1, reason };
      }
      const [row] = await this.dataSource.query<{ hash: string }[]>('SELECT hash FROM audit_records WHERE seq = $1', [
        cp.seq,
      ]);
      if (row?.hash !== cp.hash) {
        const reason = `the chain no longer reaches ${describe(cp)}: record ${cp.seq} has another hash (records up to ${cp.seq} were rewritten)`;
        return { ok: false, records: headSeq, firstBadSeq: cp.seq, reason };
      }
    }
    return null;
  }
}

function describe(c: CheckedCheckpoint): string {
  const what = { stored: 'the last stored checkpoint', request: 'the given checkpoint', file: 'the checkpoint file' }[
    c.source
  ];
  return `${what} (record ${c.seq}${c.at ? `, signed ${c.at}` : ''})`;
}
