import { execFile } from 'node:child_process';
import { gatehouseEntry } from './gatehouse-entry.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `npm run gatehouse -- <args>` as a real process (the build when fresh, else the TypeScript sources). */
export function runCliProcess(args: string[], env: Record<string, string>): Promise<CliRun> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'silent', ...env };
  if (!env.DATABASE_URL) delete childEnv.DATABASE_URL;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...gatehouseEntry('src/cli/main.ts'), ...args],
      { env: childEnv, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
