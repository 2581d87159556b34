import { resolve } from 'node:path';
import { NestFactory } from '@nestjs/core';
import { MIGRATIONS } from '../../migrations/index.js';
import { AuditIntegrityService } from '../audit/audit-integrity.service.js';
import { CliModule } from '../cli/cli.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { Database } from '../database/database.js';
import { isSigned, type BackupHeader } from './backup-format.js';
import { readBackup } from './backup-file.js';
import { loadTables } from './load-tables.js';
import { migrationName, openRestoreTarget } from './restore-target.js';

/**
 * `restore <file>`: checks the whole file, migrates the empty target to the backup's schema,
 * loads every table in one transaction, then verifies the audit chain against the backup's
 * checkpoint with the restored keys. Exit 0 only when the chain verifies.
 */
export async function restoreCommand(config: AppConfig, args: string[]): Promise<number> {
  const file = args[0];
  if (!file) throw new Error('Missing <file>: the backup to restore (written by `backup <file>`)');
  const backup = await readBackup(file);
  const { header } = backup;
  const names = MIGRATIONS.map(migrationName);
  const at = names.indexOf(header.schemaVersion);
  if (at === -1) {
    throw new Error(
      `${file} is a backup of schema ${header.schemaVersion}, which this Gatehouse does not know (its newest is ` +
        `${names.at(-1)}): restore it with the Gatehouse version that took it, or a newer one. Nothing was changed.`,
    );
  }
  const target = await openRestoreTarget(config, MIGRATIONS.slice(0, at + 1));
  let counts: Map<string, number>;
  try {
    counts = await loadTables(target.dataSource, header, backup.tables(500), (table, done, of) =>
      process.stderr.write(`  ${table}: ${done}/${of} rows${done === of ? '\n' : '\r'}`),
    );
    await target.finish();
  } catch (error) {
    await target.discard();
    throw new Error(`Nothing was restored into ${target.description}: ${(error as Error).message}`, { cause: error });
  } finally {
    await target.close();
  }
  console.log(
    `Restored ${file} (taken ${header.createdAt}, schema ${header.schemaVersion}) into ${target.description}:`,
  );
  const width = Math.max(...header.tables.map((t) => t.name.length));
  for (const t of header.tables) console.log(`  ${t.name.padEnd(width)}  ${counts.get(t.name)}`);
  const verified = await verifyChain(config, header);
  console.log(JSON.stringify(verified));
  if (!verified.ok) {
    console.error(
      `The restored audit chain does not verify against the backup's checkpoint: ${verified.reason}. ` +
        (config.DATABASE_URL ? '' : `Data folder: ${resolve(config.GATEHOUSE_DATA_DIR)}. `) +
        'Do not serve from it; restore an intact backup.',
    );
    return 1;
  }
  console.log(
    header.checkpoint
      ? `Audit chain verified through record ${header.checkpoint.seq} (the backup's checkpoint${isSigned(header.checkpoint) ? ', signature valid' : ''}); new records continue it.`
      : 'The backup had no audit records.',
  );
  return 0;
}

/**
 * Opens the restored database as the server would (migrating it on to this version's schema)
 * and walks the whole chain: it must reach the backup's checkpoint with that hash, and the
 * checkpoint's signature must be one of the restored keys'.
 */
async function verifyChain(config: AppConfig, header: BackupHeader) {
  const database = await Database.open(config, { migrate: true });
  const ctx = await NestFactory.createApplicationContext(CliModule.register(config, database), {
    logger: ['error', 'warn'],
  });
  try {
    const cp = header.checkpoint;
    return await ctx.get(AuditIntegrityService).verify({
      full: true,
      ...(cp === null ? {} : isSigned(cp) ? { signed: cp } : { point: { seq: cp.seq, hash: cp.hash } }),
    });
  } finally {
    await ctx.close();
    await database.close();
  }
}
