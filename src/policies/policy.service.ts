import { createHash } from 'node:crypto';
import { actorEvent, type Actor } from '../audit/actor.js';
import { watch, type FSWatcher } from 'node:fs';
import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service.js';
import { NotificationBus } from '../database/notification-bus.js';
import { ApiError, ErrorCode } from '../common/api-error.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { PolicyEngine } from './engine/policy-engine.js';
import { DeviceGrouper } from './engine/device-groups.js';
import { diffPolicySets, loadPolicyDirectory, type LoadResult, type PolicySourceText } from './policy-loader.js';
import { consoleSources, markConsoleSources } from './console-rules.js';
import type { PolicyProblem, PolicySet } from './policy.types.js';

const RELOAD_DEBOUNCE_MS = 300;

const consoleRulesFingerprint = (rules: { id: string; rule: Record<string, unknown> }[]) =>
  createHash('sha256').update(JSON.stringify(rules)).digest('hex');

/**
 * The policy set in force. Loads all files or nothing: a set that does not validate is
 * never used, the last good one stays, and until a first good set is loaded Gatehouse
 * is not ready and denies. Reloads on file change, on SIGHUP and on request.
 */
@Injectable()
export class PolicyService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Policies');
  private current: { set: PolicySet; engine: PolicyEngine; grouper: DeviceGrouper } | null = null;
  private lastProblems: PolicyProblem[] = [];
  /** The console rules the last reload read (its fingerprint), to notice a change it missed. */
  private readConsoleRules = '';
  private reloading: Promise<unknown> = Promise.resolve();
  private watcher?: FSWatcher;
  private debounce?: NodeJS.Timeout;
  private readonly onSighup = () => void this.reload({ type: 'system', id: 'SIGHUP' }).catch(() => undefined);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly bus: NotificationBus,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.reload({ type: 'system', id: 'start' }).catch(() => undefined);
    process.on('SIGHUP', this.onSighup);
    this.bus.on('policy.changed', (message) => {
      if (!this.bus.isOwn(message)) void this.reload({ type: 'system', id: 'replica' }).catch(() => undefined);
    });
    try {
      this.watcher = watch(this.config.POLICIES_DIR, { recursive: true }, () => {
        clearTimeout(this.debounce);
        this.debounce = setTimeout(
          () => void this.reload({ type: 'system', id: 'file-change' }).catch(() => undefined),
          RELOAD_DEBOUNCE_MS,
        );
      });
    } catch (error) {
      this.logger.warn(`Not watching ${this.config.POLICIES_DIR} for changes: ${(error as Error).message}`);
    }
  }

  onApplicationShutdown(): void {
    process.off('SIGHUP', this.onSighup);
    clearTimeout(this.debounce);
    this.watcher?.close();
  }

  get set(): PolicySet | null {
    return this.current?.set ?? null;
  }

  get engine(): PolicyEngine | null {
    return this.current?.engine ?? null;
  }

  get grouper(): DeviceGrouper | null {
    return this.current?.grouper ?? null;
  }

  get problems(): PolicyProblem[] {
    return this.lastProblems;
  }

  /** Re-reads the files; on problems keeps the set in force and throws 422 naming each problem. */
  reload(actor: Actor): Promise<{ version: string; changed: boolean }> {
    // One reload at a time (a file change, SIGHUP and the API may come together).
    const next = this.reloading.then(() => this.reloadNow(actor));
    this.reloading = next.catch(() => undefined);
    return next;
  }

  private async reloadNow(actor: Actor): Promise<{ version: string; changed: boolean }> {
    const rules = await this.consoleRules();
    this.readConsoleRules = consoleRulesFingerprint(rules);
    const result = this.load(rules);
    if (!result.ok) {
      this.lastProblems = result.problems;
      const summary = result.problems.map((p) => `${p.file}:${p.line}: ${p.message}`);
      this.logger.error(
        `Policy files do not validate; ${this.current ? 'the last good set stays in force' : 'no set is in force: every decision is deny'}:\n  ${summary.join('\n  ')}`,
      );
      await this.audit.append(
        actorEvent(actor, 'policy.reload', {
          outcome: 'failure',
          policyVersion: this.current?.set.version ?? null,
          details: { problems: summary.slice(0, 50) },
        }),
      );
      throw new ApiError(
        ErrorCode.InvalidRequest,
        'The policy files do not validate; the set in force is unchanged',
        result.problems.map((p) => ({ field: `${p.file}:${p.line}`, problem: p.message })),
        { status: 422 },
      );
    }
    this.lastProblems = [];
    const previous = this.current?.set ?? null;
    const changed = previous?.version !== result.set.version;
    if (changed) {
      await this.recordVersion(result.set, previous, actor);
      const engine = new PolicyEngine(result.set);
      this.current = {
        set: result.set,
        engine,
        grouper: new DeviceGrouper(result.set.deviceGroups),
      };
      this.logger.log(
        `Policy set ${result.set.version.slice(0, 12)} in force: ${result.set.rules.length} rules from ${result.files.length} files`,
      );
    }
    return { version: result.set.version, changed };
  }

  /** The files and the given console rules, validated as one set. */
  load(consoleRules: { id: string; rule: Record<string, unknown> }[]): LoadResult {
    return this.loadWith(consoleSources(consoleRules));
  }

  /** The files and the given sources (console rules as text), validated as one set. */
  loadWith(sources: PolicySourceText[]): LoadResult {
    const result = loadPolicyDirectory(this.config.POLICIES_DIR, sources);
    return result.ok ? { ...result, set: markConsoleSources(result.set) } : result;
  }

  /** Whether the console rules in the database differ from those of the last reload. */
  async consoleRulesChanged(): Promise<boolean> {
    return consoleRulesFingerprint(await this.consoleRules()) !== this.readConsoleRules;
  }

  async consoleRules(): Promise<{ id: string; rule: Record<string, unknown> }[]> {
    return this.dataSource.query<{ id: string; rule: Record<string, unknown> }[]>(
      'SELECT id, rule FROM console_rules ORDER BY id',
    );
  }

  /**
   * A set as stored when it was first loaded (JSON: its instants are strings), or null when
   * no such version was ever in force.
   */
  async storedVersion(version: string): Promise<PolicySet | null> {
    const rows = await this.dataSource.query<{ content: PolicySet }[]>(
      'SELECT content FROM policy_versions WHERE version = $1',
      [version],
    );
    return rows[0]?.content ?? null;
  }

  /** Stores a version the first time any replica loads it, and audits what changed. */
  private async recordVersion(set: PolicySet, previous: PolicySet | null, actor: Actor): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      const inserted = await m.query<{ version: string }[]>(
        `INSERT INTO policy_versions (version, content) VALUES ($1, $2) ON CONFLICT (version) DO NOTHING RETURNING version`,
        [set.version, JSON.stringify(set)],
      );
      if (inserted.length === 0 && previous === null) return; // a replica (re)starting on a known set
      let before = previous;
      if (!before) {
        const rows = await m.query<{ content: PolicySet }[]>(
          'SELECT content FROM policy_versions WHERE version <> $1 ORDER BY first_loaded_at DESC LIMIT 1',
          [set.version],
        );
        before = rows[0]?.content ?? null;
      }
      await this.audit.appendIn(
        m,
        actorEvent(actor, 'policy.changed', {
          policyVersion: set.version,
          details: { previousVersion: before?.version ?? null, ...diffPolicySets(before, set) },
        }),
      );
    });
  }
}
