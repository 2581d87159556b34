import { Logger } from '@nestjs/common';
import { Gauge, type Registry } from 'prom-client';
import type { DataSource } from 'typeorm';
import type { NotificationSender } from '../approvals/notifications/notification-sender.js';
import type { AuditService } from '../audit/audit.service.js';
import type { ForwardingService } from '../audit/forwarding/forwarding.service.js';
import type { Clock } from '../common/clock.js';
import type { DecisionRequests } from '../decisions/decision-requests.js';
import { withDeadline } from '../common/deadline.js';
import { readStatus } from '../directory/directory-status.js';
import type { PolicyService } from '../policies/policy.service.js';

/** How long one scrape waits for each database read: a slow database must not hang Prometheus. */
export const STATE_READ_TIMEOUT_MS = 2000;
/** Pending requests expiring within this many seconds count as "about to expire" (alert rule). */
export const EXPIRING_SOON_SECONDS = 600;

/** The owners of what the gauges read (each table is read through its module's service). */
export interface StateSources {
  /** For the directory's status (a setting). */
  dataSource: DataSource;
  requests: DecisionRequests;
  audit: AuditService;
  notifications: NotificationSender;
  clock: Clock;
  policies: PolicyService;
  forwarding: ForwardingService;
  directoryConfigured: boolean;
}

type Reader = 'pending' | 'audit' | 'notifications' | 'forwarding' | 'directory';

/**
 * The gauges read from the database (and from services) when Prometheus scrapes, never on
 * the decision path. Each read has its own deadline; one that fails or times out sets
 * gatehouse_state_read_ok{reader} to 0 and drops its gauges (no stale value looks current).
 */
export class StateGauges {
  private readonly logger = new Logger('Metrics');
  private readonly readOk: Gauge<'reader'>;
  private readonly pending: Gauge;
  private readonly pendingOldest: Gauge;
  private readonly pendingExpiring: Gauge;
  private readonly auditHead: Gauge;
  private readonly auditUnsealed: Gauge;
  private readonly auditSealLag: Gauge;
  private readonly notificationsFailed: Gauge;
  private readonly notificationsQueued: Gauge;
  private readonly notificationsOldest: Gauge;
  private readonly forwardLag: Gauge<'receiver'>;
  private readonly forwardLagSeconds: Gauge<'receiver'>;
  private readonly forwardFailing: Gauge<'receiver'>;
  private readonly syncAge: Gauge;
  private readonly syncOk: Gauge;
  private readonly policyInfo: Gauge<'version'>;
  private readonly policyLoaded: Gauge;
  private readonly policyProblems: Gauge;

  constructor(
    private readonly registry: Registry,
    private readonly sources: StateSources,
  ) {
    this.readOk = this.gauge(
      'gatehouse_state_read_ok',
      'Whether the last scrape could read this state (1) or not (0)',
      ['reader'],
    );
    this.pending = this.gauge('gatehouse_pending_requests', 'Requests waiting for approvers (not expired)');
    this.pendingOldest = this.gauge(
      'gatehouse_pending_oldest_age_seconds',
      'Age of the oldest request waiting for approvers (0 when none)',
    );
    this.pendingExpiring = this.gauge(
      'gatehouse_pending_expiring_soon',
      `Requests waiting for approvers that expire within ${EXPIRING_SOON_SECONDS} s`,
    );
    this.auditHead = this.gauge('gatehouse_audit_chain_head_seq', 'Sequence number of the newest audit record');
    this.auditUnsealed = this.gauge(
      'gatehouse_audit_unsealed_records',
      "Decisions' audit records committed (the decisions answered) but not yet sealed into the chain",
    );
    this.auditSealLag = this.gauge(
      'gatehouse_audit_seal_lag_seconds',
      'Age of the oldest audit record not yet sealed into the chain (0 when none; README states the bound)',
    );
    this.notificationsFailed = this.gauge(
      'gatehouse_notifications_failed',
      'Notifications given up after NOTIFY_MAX_ATTEMPTS (kept until retention removes them)',
    );
    this.notificationsQueued = this.gauge('gatehouse_notifications_queued', 'Notifications not yet sent (retrying)');
    this.notificationsOldest = this.gauge(
      'gatehouse_notifications_oldest_queued_age_seconds',
      'Age of the oldest notification not yet sent (0 when none)',
    );
    this.forwardLag = this.gauge('gatehouse_forwarding_lag_records', 'Audit records not yet forwarded, per receiver', [
      'receiver',
    ]);
    this.forwardLagSeconds = this.gauge(
      'gatehouse_forwarding_lag_seconds',
      'Age of the oldest audit record not yet forwarded, per receiver',
      ['receiver'],
    );
    this.forwardFailing = this.gauge(
      'gatehouse_forwarding_failing',
      'Whether the receiver is failing now (1) or not (0)',
      ['receiver'],
    );
    this.syncAge = this.gauge(
      'gatehouse_directory_sync_age_seconds',
      'Seconds since the last successful directory sync (absent without LDAP_URL or before the first success)',
    );
    this.syncOk = this.gauge(
      'gatehouse_directory_last_sync_success',
      'Whether the last directory sync succeeded (1/0)',
    );
    this.policyInfo = this.gauge('gatehouse_policy_info', 'The policy set in force (value 1, version as label)', [
      'version',
    ]);
    this.policyLoaded = this.gauge('gatehouse_policy_loaded', 'Whether a valid policy set is in force (1/0)');
    this.policyProblems = this.gauge(
      'gatehouse_policy_problems',
      'Problems of the last policy load (0 when it validated)',
    );
  }

  /** Reads everything, each reader under its own deadline, all at once. */
  async refresh(): Promise<void> {
    this.readPolicy();
    await Promise.all([
      this.read('pending', [this.pending, this.pendingOldest, this.pendingExpiring], () => this.readPending()),
      this.read('audit', [this.auditHead, this.auditUnsealed, this.auditSealLag], () => this.readAudit()),
      this.read('notifications', [this.notificationsFailed, this.notificationsQueued, this.notificationsOldest], () =>
        this.readNotifications(),
      ),
      this.read('forwarding', [this.forwardLag, this.forwardLagSeconds, this.forwardFailing], () =>
        this.readForwarding(),
      ),
      ...(this.sources.directoryConfigured
        ? [this.read('directory', [this.syncAge, this.syncOk], () => this.readDirectory())]
        : []),
    ]);
  }

  private async read(reader: Reader, gauges: Gauge<string>[], work: () => Promise<void>): Promise<void> {
    try {
      await withDeadline(work(), STATE_READ_TIMEOUT_MS, `Metrics (${reader})`);
      this.readOk.labels(reader).set(1);
    } catch (error) {
      this.logger.warn(`Metrics: could not read ${reader}: ${(error as Error).message}`);
      this.readOk.labels(reader).set(0);
      for (const g of gauges) g.reset();
    }
  }

  private readPolicy(): void {
    const set = this.sources.policies.set;
    this.policyInfo.reset();
    if (set) this.policyInfo.labels(set.version).set(1);
    this.policyLoaded.set(set ? 1 : 0);
    this.policyProblems.set(this.sources.policies.problems.length);
  }

  private async readPending(): Promise<void> {
    const pending = await this.sources.requests.pendingSummary(this.sources.clock.now(), EXPIRING_SOON_SECONDS);
    this.pending.set(pending.count);
    this.pendingOldest.set(pending.oldestSeconds);
    this.pendingExpiring.set(pending.expiringSoon);
  }

  private async readAudit(): Promise<void> {
    const [head, lag] = await Promise.all([this.sources.audit.head(), this.sources.audit.sealLag()]);
    this.auditHead.set(head?.seq ?? 0);
    this.auditUnsealed.set(lag.unsealed);
    this.auditSealLag.set(lag.oldestSeconds);
  }

  private async readNotifications(): Promise<void> {
    const backlog = await this.sources.notifications.backlog(this.sources.clock.now());
    this.notificationsFailed.set(backlog.failed);
    this.notificationsQueued.set(backlog.queued);
    this.notificationsOldest.set(backlog.oldestQueuedSeconds);
  }

  private async readForwarding(): Promise<void> {
    const receivers = await this.sources.forwarding.status();
    for (const g of [this.forwardLag, this.forwardLagSeconds, this.forwardFailing]) g.reset();
    // The receiver label is its configured URL without secrets: as many series as AUDIT_FORWARD_URLS has entries.
    for (const r of receivers) {
      this.forwardLag.labels(r.url).set(r.lag);
      this.forwardLagSeconds.labels(r.url).set(r.lagSeconds);
      this.forwardFailing.labels(r.url).set(r.failingSince ? 1 : 0);
    }
  }

  private async readDirectory(): Promise<void> {
    const status = await readStatus(this.sources.dataSource);
    const lastSuccess = status.lastSuccess?.finishedAt;
    this.syncAge.reset();
    if (lastSuccess) {
      this.syncAge.set(Math.max(0, (this.sources.clock.now().getTime() - Date.parse(lastSuccess)) / 1000));
    }
    this.syncOk.reset();
    if (status.lastRun) this.syncOk.set(status.lastRun.outcome === 'success' ? 1 : 0);
  }

  private gauge<L extends string = never>(name: string, help: string, labelNames: L[] = []): Gauge<L> {
    return new Gauge<L>({ name, help, labelNames, registers: [this.registry] });
  }
}
