import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { AppConfig } from '../config/config.schema.js';
import { Database } from '../database/database.js';
import { linesFromRunningServer } from './admin-socket-stream.js';
import { isSigned } from './backup-format.js';
import { writeBackupFile, type Progress } from './backup-file.js';
import { linesInSnapshot } from './snapshot.js';
import { snapshotLines } from './snapshot-dump.js';

/**
 * `backup <file>`: a consistent backup of Gatehouse, running or not. PostgreSQL: read here in
 * one snapshot. The embedded database: the running server reads its snapshot and streams it
 * through the admin socket (it alone can open the folder); with no server running, read here.
 */
export async function backupCommand(config: AppConfig, args: string[]): Promise<number> {
  const file = args[0];
  if (!file) throw new Error('Missing <file>: where to write the backup (e.g. gatehouse-2026-12-07.backup.gz)');
  if (existsSync(file)) throw new Error(`${file} exists: a backup never overwrites a file; choose a new name`);
  const viaServer = await linesFromRunningServer(config, '/backup');
  const { header, trailer } = await writeBackupFile(file, viaServer ?? readHere(config), stderrProgress());
  const where = config.DATABASE_URL
    ? 'PostgreSQL (DATABASE_URL)'
    : `the embedded database in ${resolve(config.GATEHOUSE_DATA_DIR)}${viaServer ? ', through the running server' : ''}`;
  const cp = header.checkpoint;
  console.log(
    `Backed up ${trailer.rows} rows of ${trailer.tables} tables from ${where} to ${file} (mode 0600: it holds ` +
      `password hashes and secrets).\nSchema ${header.schemaVersion}; audit chain head ` +
      (cp
        ? `record ${cp.seq}, hash ${cp.hash}${isSigned(cp) ? `, signed by key ${cp.keyId}` : ' (not signed: no private key here)'}`
        : 'none (empty)') +
      '.',
  );
  return 0;
}

async function* readHere(config: AppConfig): AsyncGenerator<string> {
  const database = await Database.open(config, { migrate: false });
  try {
    yield* linesInSnapshot(
      database.dataSource,
      (source) => snapshotLines(source, { database: database.kind, config, now: new Date() }),
      { appendOnlyOutside: database.kind === 'embedded' },
    );
  } finally {
    await database.close();
  }
}

/** Tables and rows on stderr as they are written (a big audit trail takes a while). */
function stderrProgress(): Progress {
  return (table, done, of) => {
    process.stderr.write(`  ${table}: ${done}/${of} rows${done === of ? '\n' : '\r'}`);
  };
}
