import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuditCheckpointsService } from './audit-checkpoints.service.js';
import { verifyAuditChain, type ChainPoint, type VerifyResult } from './audit-verifier.js';
import type { SignedCheckpoint } from './checkpoint-format.js';

/** A checkpoint a verification was checked against, and where it came from. */
export interface CheckedCheckpoint extends ChainPoint {
  source: 'stored' | 'request' | 'file';
  at?: string;
}

export type IntegrityResult = VerifyResult & { checkpoints: CheckedCheckpoint[] };

export interface IntegrityRequest {
  /** A checkpoint the caller kept (API query), taken as given. */
  point?: ChainPoint;
  /** A signed checkpoint (a file): its signature must be one of this appliance's keys. */
  signed?: SignedCheckpoint;
  onProgress?: (checked: number) => void;
}

/**
 * Verifies the chain and that it still reaches the latest stored checkpoint (its signature
 * checked first: a checkpoint changed in the database must not vouch for anything) and any
 * checkpoint the caller brings.
 */
@Injectable()
export class AuditIntegrityService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly checkpoints: AuditCheckpointsService,
  ) {}

  async verify(request: IntegrityRequest = {}): Promise<IntegrityResult> {
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
        return { ok: false, records: 0, firstBadSeq: cp.seq, reason, checkpoints: against };
      }
    }
    if (request.point) against.push({ ...request.point, source: 'request' });
    const result = await verifyAuditChain(this.dataSource, {
      checkpoints: against.map((c) => ({ seq: c.seq, hash: c.hash, name: describe(c) })),
      onProgress: request.onProgress,
    });
    return { ...result, checkpoints: against };
  }
}

function describe(c: CheckedCheckpoint): string {
  const what = { stored: 'the last stored checkpoint', request: 'the given checkpoint', file: 'the checkpoint file' }[
    c.source
  ];
  return `${what} (record ${c.seq}${c.at ? `, signed ${c.at}` : ''})`;
}
