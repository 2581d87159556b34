import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { Clock } from '../common/clock.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { releaseSessionLock, trySessionLock } from '../database/advisory-lock.js';
import { createDataSource } from '../database/data-source.js';
import { Database } from '../database/database.js';
import { SigningKeysService } from '../signing/signing-keys.service.js';
import { AuditIntegrityService } from './audit-integrity.service.js';
import { pruneAudit, type PruneDeps, type PruneOutcome } from './audit-prune.js';
import { AuditService } from './audit.service.js';

/** One prune at a time across replicas and CLIs (PostgreSQL): "prne". */
const PRUNE_LOCK_KEY = 0x7072_6e65;

export interface PruneRequest {
  /** Records of the chain checked so far by the verify that comes first. */
  onChecked?: (records: number) => void;
  onProgress?: (text: string) => void;
  /** For audit.pruned: who asked and how (PruneDeps). */
  actorId?: string;
  via?: string;
}

/** What was pruned, or why nothing was (the chain does not verify, another prune is running). */
export type PruneRun = { outcome: PruneOutcome } | { refused: string };

/**
 * audit:prune's work (audit-prune.ts) wherever it runs: in the CLI, which opened the database,
 * or in the server, asked through the admin socket (the embedded database, which only the
 * server's process can open; the server has no prune schedule of its own, see
 * docs/design-choices.md). Who may delete differs: on PostgreSQL the
 * tables' owner's own connection (DATABASE_MIGRATION_URL); on the embedded database the one
 * session, switched to the owner inside each delete-and-audit transaction only.
 */
@Injectable()
export class AuditPruneService {
  private running = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly database: Database,
    private readonly dataSource: DataSource,
    private readonly integrity: AuditIntegrityService,
    private readonly keys: SigningKeysService,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  async prune(request: PruneRequest = {}): Promise<PruneRun> {
    const archiveDir = this.config.AUDIT_ARCHIVE_DIR;
    if (!archiveDir) {
      throw new Error(
        'AUDIT_ARCHIVE_DIR is not set: nothing is pruned without an archive. Set it to a folder the service ' +
          "can write to (and copy its files to the hospital's archive storage)",
      );
    }
    if (this.running) return { refused: 'a prune is already running in this Gatehouse: wait for it to end' };
    this.running = true;
    try {
      return await this.oneAtATime(() => this.verifiedPrune(archiveDir, request));
    } finally {
      this.running = false;
    }
  }

  private async verifiedPrune(archiveDir: string, request: PruneRequest): Promise<PruneRun> {
    // Never archive (and remove) part of a chain that does not verify: it is the evidence.
    const verified = await this.integrity.verify({ full: true, onProgress: request.onChecked });
    if (!verified.ok) return { refused: `the audit chain does not verify: ${verified.reason}` };
    const settings = { ...this.config, AUDIT_ARCHIVE_DIR: archiveDir };
    const deps: Omit<PruneDeps, 'owner'> = {
      sign: (fields) => this.keys.sign(fields),
      appendIn: (manager, event) => this.audit.appendIn(manager, event),
      clock: this.clock,
      actorId: request.actorId,
      via: request.via,
      onProgress: request.onProgress,
    };
    if (this.database.kind === 'embedded') {
      // The pool's one connection is the whole embedded database's one session, and a
      // transaction holds it (data-source.ts; pglite-socket runs no other connection's
      // queries inside it), so no other query shares the owner's rights meanwhile.
      return { outcome: await pruneAudit(settings, { ...deps, owner: this.dataSource, becomeOwner: asSessionUser }) };
    }
    const owner = createDataSource({
      DATABASE_URL: this.config.DATABASE_MIGRATION_URL ?? this.config.DATABASE_URL!,
      DATABASE_POOL_SIZE: 1,
    });
    await owner.initialize();
    try {
      return { outcome: await pruneAudit(settings, { ...deps, owner }) };
    } finally {
      await owner.destroy();
    }
  }

  /**
   * On PostgreSQL, a session advisory lock held on a connection of its own while the prune
   * runs: two CLIs (two timers, or a timer and someone by hand) would archive the same segment twice. The
   * embedded database has one process: the `running` flag is enough.
   */
  private async oneAtATime(prune: () => Promise<PruneRun>): Promise<PruneRun> {
    if (this.database.kind === 'embedded') return prune();
    const runner = await trySessionLock(this.dataSource, PRUNE_LOCK_KEY);
    if (!runner) return { refused: 'another audit:prune is running on this database: try again when it has ended' };
    try {
      return await prune();
    } finally {
      await releaseSessionLock(runner, PRUNE_LOCK_KEY);
    }
  }
}

/**
 * SET LOCAL ROLE NONE: for this transaction only, the session's own user, the embedded
 * database's superuser that ran the migrations and owns the tables. At COMMIT or ROLLBACK the
 * session is gatehouse_server again (server-role.ts restrictEmbeddedSession).
 */
async function asSessionUser(manager: EntityManager): Promise<void> {
  await manager.query('SET LOCAL ROLE NONE');
}
