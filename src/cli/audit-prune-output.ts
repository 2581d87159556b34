import type { PruneLine } from '../audit/audit-prune-socket.js';
import type { PruneRun } from '../audit/audit-prune.service.js';
import type { AppConfig } from '../config/config.schema.js';
import { linesFromRunningServer } from '../backup/admin-socket-stream.js';

/** What audit:prune prints while it works, on stderr (stdout is the outcome's JSON). */
export const pruneProgress = {
  onChecked: (records: number) => process.stderr.write(`\rverifying the audit chain: ${records} records checked`),
  onProgress: (text: string) => process.stderr.write(`\n${text}`),
};

/** Prints the run's outcome (JSON on stdout) or why nothing was pruned; the exit code. */
export function reportPrune(run: PruneRun): number {
  process.stderr.write('\n');
  if ('refused' in run) {
    console.error(`Nothing pruned: ${run.refused}`);
    return 1;
  }
  console.log(JSON.stringify(run.outcome));
  return 0;
}

/**
 * audit:prune through a running server on the embedded database (its admin socket: the server
 * alone can open the data folder), printing its progress as it comes. Undefined when no server
 * runs there: the CLI then opens the folder itself.
 */
export async function pruneThroughServer(config: AppConfig): Promise<PruneRun | undefined> {
  const lines = await linesFromRunningServer(config, '/audit/prune', "audit:prune's outcome");
  if (!lines) return undefined;
  for await (const text of lines) {
    const line = JSON.parse(text) as PruneLine;
    if ('checked' in line) pruneProgress.onChecked(line.checked);
    else if ('progress' in line) pruneProgress.onProgress(line.progress);
    else if ('error' in line) {
      process.stderr.write('\n');
      throw new Error(`The running server could not prune (see its log): ${line.error}`);
    } else return line;
  }
  throw new Error("The running server ended audit:prune's answer without its outcome: see the server's log");
}
