import type { ServerResponse } from 'node:http';
import type { Logger } from '@nestjs/common';
import type { PruneOutcome } from './audit-prune.js';
import type { AuditPruneService } from './audit-prune.service.js';

/**
 * One line of the admin socket's `/audit/prune` answer (JSON lines): progress while the server
 * verifies and prunes, then exactly one of outcome, refused or error as the last line.
 */
export type PruneLine =
  { checked: number } | { progress: string } | { outcome: PruneOutcome } | { refused: string } | { error: string };

/** Verify progress at most this often: a long chain would otherwise send a line per batch. */
const CHECKED_EVERY_MS = 500;

/**
 * The server's half of `audit:prune` on the embedded database (src/cli/audit-prune.command.ts):
 * prunes, and streams what it does to the CLI. A CLI that goes away does not stop the prune:
 * each segment is archived and removed whole, and the audit trail has the outcome.
 */
export async function streamPrune(service: AuditPruneService, res: ServerResponse, logger: Logger): Promise<void> {
  res.writeHead(200, { 'content-type': 'application/x-ndjson' });
  const send = (line: PruneLine) => {
    if (!res.destroyed) res.write(`${JSON.stringify(line)}\n`);
  };
  let lastChecked = 0;
  try {
    const run = await service.prune({
      via: 'admin-socket',
      onChecked: (checked) => {
        if (Date.now() - lastChecked < CHECKED_EVERY_MS) return;
        lastChecked = Date.now();
        send({ checked });
      },
      onProgress: (progress) => {
        logger.log(`audit:prune: ${progress}`);
        send({ progress });
      },
    });
    if ('refused' in run) logger.warn(`audit:prune through the admin socket: nothing pruned: ${run.refused}`);
    send(run);
  } catch (error) {
    logger.error(`audit:prune through the admin socket failed: ${(error as Error).message}`);
    send({ error: (error as Error).message });
  }
  res.end();
}
