import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { Client } from 'ldapts';
import { DataSource } from 'typeorm';
import { actorEvent, type Actor } from '../audit/actor.js';
import { AuditService } from '../audit/audit.service.js';
import { ApiError, ErrorCode } from '../common/api-error.js';
import { Clock } from '../common/clock.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { SessionRevocation } from '../auth/session-revocation.js';
import { RolesService } from '../users/roles.service.js';
import { describeSettings, directorySettings, type DirectorySettings } from './directory-settings.js';
import { readDirectory, type SyncKind } from './directory-sync.js';
import { applySnapshot, loadSnapshot, type SyncCounts } from './directory-store.js';
import type { DirectorySnapshot } from './directory-model.js';
import { readCursor, readStatus, updateStatus, writeCursor, type SyncRun } from './directory-status.js';
import { classifyDirectoryError, DirectoryError } from './directory.errors.js';
import { closeQuietly, openServiceConnection } from './ldap-connection.js';
import { acquireSyncLease, syncRunning, type SyncLease } from './sync-lease.js';
import { Database } from '../database/database.js';

export const SYNC_ACTOR: Actor = { type: 'system', id: 'directory-sync' };
const PROGRESS_EVERY_MS = 250;
const AUDIT_BATCH = 500;

/** Thrown to roll back a dry run after it computed what it would change. */
class DryRunRollback extends Error {
  constructor(readonly counts: SyncCounts) {
    super('dry run');
  }
}

/**
 * Keeps the copy of the directory (users, groups, nested memberships) in PostgreSQL: full syncs
 * and incremental ones on a schedule or on request, under an advisory lock, each applied in one
 * transaction with its role changes audited.
 */
@Injectable()
export class DirectorySyncService implements OnApplicationShutdown {
  private readonly logger = new Logger('Directory');
  readonly settings: DirectorySettings | null;
  private current: Promise<unknown> | undefined;
  private client: Client | undefined;
  private stopping = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly roles: RolesService,
    private readonly sessions: SessionRevocation,
    private readonly clock: Clock,
    private readonly database: Database,
  ) {
    this.settings = directorySettings(config);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    // Cut the connection: the read fails, its transaction never starts, nothing changes.
    if (this.client) await closeQuietly(this.client);
    await this.current?.catch(() => undefined);
  }

  /** What GET /directory/status shows. */
  async status() {
    const stored = await readStatus(this.dataSource);
    // A replica that died mid-sync leaves `running` behind; the lease tells whether it is really running.
    const held = await syncRunning(this.dataSource, this.database.kind === 'embedded');
    return {
      enabled: this.settings !== null,
      settings: this.settings ? describeSettings(this.settings) : null,
      ...stored,
      running: held ? stored.running : null,
    };
  }

  /** Starts a sync in the background; 409 when one is running on any replica. */
  async start(kind: SyncKind, actor: Actor, trigger = 'api'): Promise<void> {
    const lease = await this.acquire();
    this.current = this.runLocked(lease, kind, actor, trigger).catch(() => undefined);
  }

  /** Runs a sync to its end (the CLI and the schedule use this); the result is also in the status. */
  async syncNow(kind: SyncKind, actor: Actor, trigger: string, options: { dryRun?: boolean } = {}): Promise<SyncRun> {
    const lease = await this.acquire();
    const run = this.runLocked(lease, kind, actor, trigger, options);
    this.current = run.catch(() => undefined);
    return run;
  }

  private async acquire(): Promise<SyncLease> {
    if (!this.settings) {
      throw new ApiError(ErrorCode.Conflict, 'No directory is configured (LDAP_URL is unset)');
    }
    return acquireSyncLease(this.dataSource, this.database.kind === 'embedded');
  }

  private async runLocked(
    lease: SyncLease,
    requested: SyncKind,
    actor: Actor,
    trigger: string,
    options: { dryRun?: boolean } = {},
  ): Promise<SyncRun> {
    const settings = this.settings!;
    const started = this.clock.now();
    const startedAt = started.toISOString();
    let lastProgress = 0;
    let progressWrite: Promise<unknown> = Promise.resolve();
    // Where the time goes, per phase (wall-clock ms), for the status and the benchmark.
    const phasesMs: Record<string, number> = {};
    let phase = 'connecting';
    let phaseStart = performance.now();
    const enter = (next: string) => {
      if (next === phase) return;
      phasesMs[phase] = Math.round((phasesMs[phase] ?? 0) + performance.now() - phaseStart);
      phase = next;
      phaseStart = performance.now();
    };
    const running = { kind: requested, trigger, startedAt, replica: `${hostname()}:${process.pid}` };
    let kind = requested;
    try {
      if (!options.dryRun) {
        await updateStatus(lease.manager, (s) => ({
          ...s,
          running: { ...running, phase: 'connecting', usersRead: 0, groupsRead: 0 },
        }));
      }
      const cursor = await readCursor(lease.manager);
      // Loaded over another connection while the directory is read (the sync lock keeps it current).
      let stored: Promise<DirectorySnapshot> | undefined;
      const storedCopy = () => (stored ??= loadSnapshot(this.dataSource.manager));
      if (requested === 'incremental' && cursor) void storedCopy().catch(() => undefined);
      let client: Client;
      try {
        client = await openServiceConnection(settings);
      } catch (error) {
        throw classifyDirectoryError(error, 'connect', settings);
      }
      this.client = client;
      let read;
      try {
        read = await readDirectory(client, settings, requested, cursor, storedCopy, (p) => {
          enter(p.phase);
          const now = Date.now();
          if (options.dryRun || now - lastProgress < PROGRESS_EVERY_MS) return;
          lastProgress = now;
          progressWrite = progressWrite
            .then(() => updateStatus(this.dataSource, (s) => ({ ...s, running: { ...running, ...p } })))
            .catch(() => undefined);
        });
      } finally {
        this.client = undefined;
        await closeQuietly(client);
      }
      await progressWrite;
      if (this.stopping) throw new Error('Gatehouse is shutting down');
      kind = read.kind;
      if (!options.dryRun) {
        await updateStatus(lease.manager, (s) => ({
          ...s,
          running: {
            ...running,
            kind,
            phase: 'writing',
            usersRead: read.snapshot.users.size,
            groupsRead: read.snapshot.groups.size,
          },
        }));
      }
      enter('writing');
      const counts = await this.write(lease, read, actor, kind, options.dryRun ?? false);
      enter('done');
      const finished = this.clock.now();
      const run: SyncRun = {
        kind,
        trigger,
        outcome: 'success',
        startedAt,
        finishedAt: finished.toISOString(),
        durationMs: finished.getTime() - started.getTime(),
        phasesMs,
        deletionCheck: read.deletionCheck,
        counts,
      };
      if (!options.dryRun) {
        const warnings = this.warnings(read.lockoutThreshold, counts);
        await updateStatus(lease.manager, (s) => ({
          ...s,
          running: null,
          lastRun: run,
          lastSuccess: run,
          lastFullSuccessAt: kind === 'full' ? run.finishedAt : s.lastFullSuccessAt,
          warnings,
        }));
        this.logger.log(
          `Directory ${kind} sync done in ${run.durationMs} ms: ${JSON.stringify({ ...counts, skipped: counts.skipped.length })}`,
        );
      }
      return run;
    } catch (error) {
      const problem = error instanceof DirectoryError ? error : classifyDirectoryError(error, 'search', settings);
      const finished = this.clock.now();
      const run: SyncRun = {
        kind,
        trigger,
        outcome: 'failure',
        startedAt,
        finishedAt: finished.toISOString(),
        durationMs: finished.getTime() - started.getTime(),
        error: problem.toJSON(),
      };
      this.logger.error(`Directory ${kind} sync failed, nothing was changed: ${problem.message}`);
      await progressWrite; // a progress write landing after the result would hide it
      if (!options.dryRun) {
        await updateStatus(this.dataSource, (s) => ({ ...s, running: null, lastRun: run })).catch(() => undefined);
        await this.audit
          .append(
            actorEvent(actor, 'directory.sync', { outcome: 'failure', details: { kind, trigger, error: run.error } }),
          )
          .catch(() => undefined);
      }
      if (options.dryRun) throw problem;
      return run;
    } finally {
      await lease.release();
    }
  }

  /** Applies the read in one transaction; in a dry run, rolls it back and reports what it would do. */
  private async write(
    lease: SyncLease,
    read: Awaited<ReturnType<typeof readDirectory>>,
    actor: Actor,
    kind: SyncKind,
    dryRun: boolean,
  ): Promise<SyncCounts> {
    try {
      return await lease.transaction(async (m) => {
        const { counts, roleEvents } = await applySnapshot(
          m,
          read.snapshot,
          (groups) => this.roles.roleBindingsFor(groups),
          (tx, userIds) => this.sessions.endAllOf(tx, userIds),
        );
        await writeCursor(m, read.cursor);
        if (dryRun) throw new DryRunRollback(counts);
        // Audit last: appending holds the audit chain lock until commit, which the decision path waits on.
        for (let i = 0; i < roleEvents.length; i += AUDIT_BATCH) {
          await this.audit.appendIn(
            m,
            ...roleEvents.slice(i, i + AUDIT_BATCH).map((details) =>
              // The sync changed the roles (the directory did); who asked for the sync is kept beside it.
              actorEvent(SYNC_ACTOR, 'role.changed', {
                details: { ...details, cause: 'directory-sync', requestedBy: actor.id },
              }),
            ),
          );
        }
        await this.audit.appendIn(
          m,
          actorEvent(actor, 'directory.sync', {
            details: {
              kind,
              changedUsers: read.changedUsers,
              changedGroups: read.changedGroups,
              ...counts,
              skipped: counts.skipped.slice(0, 50),
            },
          }),
        );
        return counts;
      });
    } catch (error) {
      if (error instanceof DryRunRollback) return error.counts;
      throw error;
    }
  }

  private warnings(lockoutThreshold: number | null, counts: SyncCounts): string[] {
    const warnings: string[] = [];
    if (lockoutThreshold && lockoutThreshold > 0 && this.config.LDAP_MAX_FAILED_BINDS >= lockoutThreshold) {
      warnings.push(
        `LDAP_MAX_FAILED_BINDS (${this.config.LDAP_MAX_FAILED_BINDS}) is not below the directory's lockout threshold ` +
          `(${lockoutThreshold}): failed sign-ins through Gatehouse could lock directory accounts`,
      );
    }
    if (counts.skipped.length > 0) warnings.push(...counts.skipped.slice(0, 20));
    return warnings;
  }
}
