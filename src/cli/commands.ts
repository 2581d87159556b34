import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NestFactory } from '@nestjs/core';
import type { INestApplicationContext } from '@nestjs/common';
import { verifyExportFile } from '../audit/audit-file-verifier.js';
import { AuditCheckpointsService } from '../audit/audit-checkpoints.service.js';
import { AuditIntegrityService } from '../audit/audit-integrity.service.js';
import { AuditPruneService } from '../audit/audit-prune.service.js';
import { AuditService } from '../audit/audit.service.js';
import { parseCheckpoint } from '../audit/checkpoint-format.js';
import { LoginThrottleService } from '../auth/login-throttle.service.js';
import { BUILTIN_ADMIN_GROUP } from '../auth/roles.js';
import type { AppConfig } from '../config/config.schema.js';
import { Database } from '../database/database.js';
import { pendingSchemaChanges } from '../database/migrate.js';
import { normalizeUsername, UsersService } from '../users/users.service.js';
import { loadPolicyDirectory } from '../policies/policy-loader.js';
import { runPolicyTests } from '../policies/policy-tests.js';
import { CliModule } from './cli.module.js';
import { directoryTest } from './directory-test.command.js';
import { readSecret } from './read-secret.js';
import { SigningKeysService } from '../signing/signing-keys.service.js';
import { DataSource } from 'typeorm';
import { askRunningServer } from './admin-socket-client.js';
import { pruneProgress, pruneThroughServer, reportPrune } from './audit-prune-output.js';
import { doctorCommand } from './doctor/doctor.command.js';
import { backupCommand } from '../backup/backup.command.js';
import { restoreCommand } from '../backup/restore.command.js';

export interface Command {
  usage: string;
  help: string;
  run(config: AppConfig, args: string[]): Promise<number>;
  /** A command that validates the environment itself (doctor reports a bad one): main skips loadConfig. */
  runWithEnvironment?(env: NodeJS.ProcessEnv, args: string[]): Promise<number>;
}

const CLI_ACTOR = { type: 'system' as const, id: 'cli' };

async function withServices<T>(config: AppConfig, fn: (ctx: INestApplicationContext) => Promise<T>): Promise<T> {
  const database = await Database.open(config, { migrate: true });
  const ctx = await NestFactory.createApplicationContext(CliModule.register(config, database), {
    logger: ['error', 'warn'],
  });
  try {
    return await fn(ctx);
  } finally {
    await ctx.close();
    await database.close();
  }
}

/** The value after `--name`; an error if the flag is there without one. */
function optionValue(args: string[], name: string): string | undefined {
  const at = args.indexOf(name);
  if (at === -1) return undefined;
  const value = args[at + 1];
  if (!value || value.startsWith('--')) throw new Error(`${name} needs a value`);
  return value;
}
const unlockMessage = (username: string, unlocked: boolean) =>
  unlocked ? `'${username}' can sign in again.` : `'${username}' had no failed sign-ins.`;

function requireArg(args: string[], index: number, name: string): string {
  const value = args[index];
  if (!value) throw new Error(`Missing <${name}>`);
  return value;
}

export const COMMANDS: Record<string, Command> = {
  doctor: doctorCommand,
  migrate: {
    usage: 'migrate',
    help: 'Apply pending database migrations (the server also does this at start)',
    async run(config) {
      const db = await Database.open(config, { migrate: true });
      await db.close();
      console.log('Database schema is up to date.');
      return 0;
    },
  },
  'migration:check': {
    usage: 'migration:check',
    help: 'Fail when the entities differ from the migrations (what migration:generate would write)',
    async run(config) {
      const db = await Database.open(config, { migrate: true });
      try {
        const changes = await pendingSchemaChanges(db.dataSource);
        if (changes.length === 0) {
          console.log('Migrations match the entities.');
          return 0;
        }
        console.error(`The entities need a new migration; migration:generate would write:\n${changes.join(';\n')};`);
        return 1;
      } finally {
        await db.close();
      }
    },
  },
  'migration:generate': {
    usage: 'migration:generate <Name>',
    help: 'Write migrations/<timestamp>-<Name>.ts with the SQL that brings the schema to the entities',
    async run(config, args) {
      const name = requireArg(args, 0, 'Name');
      if (!/^[A-Z][A-Za-z0-9]+$/.test(name)) throw new Error('Name must be PascalCase letters and digits');
      const db = await Database.open(config, { migrate: true });
      try {
        const log = await db.dataSource.driver.createSchemaBuilder().log();
        if (log.upQueries.length === 0) {
          console.log('No changes: nothing to generate.');
          return 0;
        }
        const timestamp = Date.now();
        const sql = (qs: { query: string }[]) =>
          qs.map((q) => `    await queryRunner.query(${JSON.stringify(q.query)});`).join('\n');
        const file = `migrations/${timestamp}-${name}.ts`;
        writeFileSync(
          file,
          `import type { MigrationInterface, QueryRunner } from 'typeorm';\n\nexport class ${name}${timestamp} implements MigrationInterface {\n` +
            `  name = '${name}${timestamp}';\n\n  async up(queryRunner: QueryRunner): Promise<void> {\n${sql(log.upQueries)}\n  }\n\n` +
            `  async down(queryRunner: QueryRunner): Promise<void> {\n${sql([...log.downQueries].reverse())}\n  }\n}\n`,
        );
        console.log(`Wrote ${file}: add it to migrations/index.ts`);
        return 0;
      } finally {
        await db.close();
      }
    },
  },
  'admin:create': {
    usage: 'admin:create <username>',
    help: 'Create a local administrator (password from GATEHOUSE_NEW_PASSWORD or standard input)',
    async run(config, args) {
      const username = requireArg(args, 0, 'username');
      const password = await readSecret(`Password for ${username}: `, 'GATEHOUSE_NEW_PASSWORD');
      return withServices(config, async (ctx) => {
        await ctx.get(UsersService).createLocalUser({ username, password, groups: [BUILTIN_ADMIN_GROUP] }, CLI_ACTOR);
        console.log(`Created administrator '${normalizeUsername(username)}'.`);
        return 0;
      });
    },
  },
  'password:reset': {
    usage: 'password:reset <username>',
    help: "Set a local user's password (from GATEHOUSE_NEW_PASSWORD or standard input); ends their sessions",
    async run(config, args) {
      const username = requireArg(args, 0, 'username');
      const password = await readSecret(`New password for ${username}: `, 'GATEHOUSE_NEW_PASSWORD');
      return withServices(config, async (ctx) => {
        await ctx.get(UsersService).setPassword(username, password, CLI_ACTOR);
        console.log(`Password of '${normalizeUsername(username)}' changed; their sessions have ended.`);
        return 0;
      });
    },
  },
  'user:unlock': {
    usage: 'user:unlock <username>',
    help: 'Clear failed sign-ins so a locked user name can sign in again',
    async run(config, args) {
      const username = normalizeUsername(requireArg(args, 0, 'username'));
      // The embedded database serves only the running server: ask the server to do it.
      const viaServer = await askRunningServer<{ unlocked: boolean }>(config, '/unlock', { username });
      if (viaServer) {
        console.log(unlockMessage(username, viaServer.unlocked));
        return 0;
      }
      return withServices(config, async (ctx) => {
        const unlocked = await ctx.get(LoginThrottleService).unlock(username);
        if (unlocked) {
          await ctx.get(AuditService).append({
            eventType: 'user.unlocked',
            actorType: 'system',
            actorId: 'cli',
            outcome: 'success',
            details: { username },
          });
        }
        console.log(unlockMessage(username, unlocked));
        return 0;
      });
    },
  },
  'policy:test': {
    usage: 'policy:test [folder]',
    help: 'Load the policy files and run their test cases (default POLICIES_DIR/tests); exit 1 on any failure',
    run(config, args) {
      const loaded = loadPolicyDirectory(config.POLICIES_DIR);
      if (!loaded.ok) {
        for (const p of loaded.problems) console.error(`${p.file}:${p.line}: ${p.message}`);
        console.error(`The policy files in ${config.POLICIES_DIR} do not validate.`);
        return Promise.resolve(1);
      }
      const { results, problems } = runPolicyTests(loaded.set, args[0] ?? join(config.POLICIES_DIR, 'tests'));
      for (const r of results) {
        console.log(
          `${r.passed ? 'PASS' : 'FAIL'}  ${r.file}: ${r.name}${r.passed ? '' : `\n      expected ${r.expected}\n      got      ${r.actual}`}`,
        );
      }
      for (const p of problems) console.error(`PROBLEM  ${p}`);
      const failed = results.filter((r) => !r.passed).length;
      console.log(`${results.length - failed} passed, ${failed} failed`);
      return Promise.resolve(failed > 0 || problems.length > 0 || results.length === 0 ? 1 : 0);
    },
  },
  'directory:test': {
    usage: 'directory:test',
    help: 'Check the directory connection (LDAP_*) and show what a sync would bring, changing nothing',
    run(config) {
      return withServices(config, directoryTest);
    },
  },
  'audit:verify': {
    usage: 'audit:verify [--file F] [--checkpoint F]',
    help:
      'Check the audit hash chain and that it still reaches the last signed checkpoint (and the checkpoint file, ' +
      'the JSON of GET /api/v1/audit/checkpoints/latest); with --file, an export offline (it must reach the ' +
      "checkpoint file's head); exits 1 and names what was tampered with",
    async run(config, args) {
      const checkpointFile = optionValue(args, '--checkpoint');
      const signed =
        checkpointFile === undefined
          ? undefined
          : parseCheckpoint(readFileSync(checkpointFile, 'utf8'), checkpointFile);
      const file = optionValue(args, '--file');
      if (file !== undefined) {
        // Offline: no database, so the checkpoint's signature is not checked here (the online
        // verify does); its head is what the export must reach.
        const result = await verifyExportFile(file, signed && { seq: signed.seq, hash: signed.hash });
        console.log(JSON.stringify(result));
        return result.ok ? 0 : 1;
      }
      return withServices(config, async (ctx) => {
        const result = await ctx
          .get(AuditIntegrityService)
          .verify({ signed, onProgress: (n) => process.stderr.write(`\rchecked ${n} records`) });
        process.stderr.write('\n');
        console.log(JSON.stringify(result));
        return result.ok ? 0 : 1;
      });
    },
  },
  'audit:checkpoint': {
    usage: 'audit:checkpoint',
    help: "Sign a checkpoint of the audit chain's head now and print it (save it as a file for audit:verify --checkpoint)",
    async run(config) {
      return withServices(config, async (ctx) => {
        const cp = await ctx.get(AuditCheckpointsService).create();
        if (!cp) throw new Error('No checkpoint: the audit trail is empty');
        console.log(JSON.stringify(cp));
        return 0;
      });
    },
  },
  'audit:prune': {
    usage: 'audit:prune',
    help:
      'Archive and remove whole audit segments (AUDIT_SEGMENT_RECORDS records) older than AUDIT_RETENTION_DAYS ' +
      'that a signed checkpoint covers, to AUDIT_ARCHIVE_DIR (jsonl + checkpoint, for audit:verify --file); ' +
      "as the tables' owner (DATABASE_MIGRATION_URL; the embedded database: through the running server if one runs); " +
      'audited as audit.pruned',
    async run(config) {
      // The embedded database serves only the running server: ask the server to do it.
      const viaServer = await pruneThroughServer(config);
      if (viaServer) return reportPrune(viaServer);
      return withServices(config, async (ctx) => reportPrune(await ctx.get(AuditPruneService).prune(pruneProgress)));
    },
  },
  'signing:rotate-key': {
    usage: 'signing:rotate-key',
    help: "Retire the appliance's signing key and make a new one (old signatures still verify); audited",
    async run(config) {
      return withServices(config, async (ctx) => {
        const rotated = await ctx.get(DataSource).transaction(async (manager) => {
          const r = await ctx.get(SigningKeysService).rotateIn(manager);
          await ctx.get(AuditService).appendIn(manager, {
            eventType: 'signing.key_rotated',
            actorType: 'system',
            actorId: 'cli',
            outcome: 'success',
            details: { retiredKeyId: r.retiredKeyId, keyId: r.keyId },
          });
          return r;
        });
        console.log(`Signing key ${rotated.retiredKeyId ?? '(none)'} retired; signing with ${rotated.keyId} now.`);
        return 0;
      });
    },
  },
  backup: {
    usage: 'backup <file>',
    help:
      'Write a consistent backup (gzip JSON lines, mode 0600: it holds password hashes and secrets) of a running or ' +
      'stopped Gatehouse, with the audit checkpoint it ends at; see docs/backup-and-restore.md',
    run: backupCommand,
  },
  restore: {
    usage: 'restore <file>',
    help: 'Restore a backup into an empty data folder or database, then verify the audit chain against its checkpoint',
    run: restoreCommand,
  },
};
