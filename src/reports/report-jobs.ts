import { createHash } from 'node:crypto';
import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { GrantLookup } from '../approvals/grants/grant-lookup.js';
import { NotificationSender } from '../approvals/notifications/notification-sender.js';
import { NotificationOutbox } from '../approvals/notifications/outbox.js';
import { AuditReads } from '../audit/audit-reads.js';
import { AuditService } from '../audit/audit.service.js';
import { Clock } from '../common/clock.js';
import { CoalescingRunner } from '../common/coalescing-runner.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { readSettingForUpdate, writeSetting, writeSettingOnce } from '../database/settings.js';
import { DecisionRequests } from '../decisions/decision-requests.js';
import { PolicyService } from '../policies/policy.service.js';
import { lastCompleteSpan, localDate, type DigestPeriod } from './digest-period.js';
import { reportRecipients } from './report-recipients.js';

const TICK_MS = 2000;
const REPORT_JOBS_LOCK_KEY = 0x7265_7074; // "rept"
const CURSOR_KEY = 'reports.cursor';
/** Audit records read per round; the next round goes on from the last. */
const BATCH = 500;

/** How far the job has read: the audit trail up to `seq`, and grants that ran out up to `grantsUntil`. */
interface Cursor {
  seq: number;
  grantsUntil: string;
}

/** What an intervention report is for, as the outbox keeps it (payload of 'report.intervention'). */
export interface InterventionReportNotice {
  requestId: string;
  trigger: 'completed' | 'grant-ended' | 'grant-expired';
}

/** A digest to send (payload of 'report.digest'): the group, and the span's first day in the hospital's zone. */
export interface DigestNotice {
  group: string;
  period: DigestPeriod;
  date: string;
}

/** The outbox keys a notice by a UUID: a digest's is derived from what it covers, so it is queued once. */
export function digestKey(n: DigestNotice): string {
  const h = createHash('sha256').update(`digest\n${n.group}\n${n.period}\n${n.date}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/**
 * Notices the ends of interventions and puts their reports in the notification outbox, on one
 * replica at a time (transaction-scoped advisory lock), off every request's path. An
 * intervention ends when the agent reports the request complete, or when the grant under
 * which actions ran is ended or runs out; whichever comes first is reported, once (the
 * outbox holds one report per request), to the recipients of the device's groups. The job's
 * place in the audit trail is kept in `settings` in the same transaction, so a restart
 * neither loses nor repeats an end. Once a day (in CONSOLE_TIME_ZONE) it also queues the
 * digests of the day and the week that ended, for the groups whose `reports.digest` asks.
 */
@Injectable()
export class ReportJobs implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Reports');
  /** The local day whose digests this process has queued (a restart queues again: the outbox keeps one). */
  private digestsQueuedOn: string | undefined;
  private readonly runner = new CoalescingRunner(
    () => this.runOnce().then(() => undefined),
    (error) => this.logger.warn(`Report jobs round failed (retried in ${TICK_MS} ms): ${error.message}`),
  );

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
    private readonly policies: PolicyService,
    private readonly sender: NotificationSender,
    private readonly outbox: NotificationOutbox,
    private readonly audit: AuditService,
    private readonly auditReads: AuditReads,
    private readonly grants: GrantLookup,
    private readonly requests: DecisionRequests,
  ) {}

  onModuleInit(): void {
    // Reports are e-mailed: nothing to do without SMTP.
    if (this.config.SMTP_URL) this.runner.every(TICK_MS);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.runner.stop();
  }

  /** One round; returns the request ids (and digest keys) whose reports it queued (none when another replica holds the lock). */
  async runOnce(): Promise<string[]> {
    const queued = await this.dataSource.transaction(async (m) => {
      const [{ locked }] = await m.query<{ locked: boolean }[]>('SELECT pg_try_advisory_xact_lock($1) AS locked', [
        REPORT_JOBS_LOCK_KEY,
      ]);
      if (!locked) return [];
      const ended = await this.queueEnded(m);
      return [...ended, ...(await this.queueDigests(m))];
    });
    if (queued.length > 0) void this.sender.kick();
    return queued;
  }

  private async queueEnded(m: EntityManager): Promise<string[]> {
    const now = this.clock.now();
    const headSeq = (await this.audit.head(m))?.seq ?? 0;
    const cursor = await this.cursor(m, headSeq, now);
    if (!cursor) return []; // first round: reports start from here, not for the whole history
    // Commits to the chain are serialised by its lock: every record up to the head read above is visible.
    const records = await this.auditReads.requestEventsBetween(m, {
      afterSeq: cursor.seq,
      upToSeq: headSeq,
      eventTypes: ['decision.completed', 'grant.ended'],
      limit: BATCH,
    });
    const expired = await this.grants.ranOutBetween(m, cursor.grantsUntil, now);
    const ends: InterventionReportNotice[] = [
      ...records.map((r): InterventionReportNotice => ({
        requestId: r.requestId,
        trigger: r.eventType === 'grant.ended' ? 'grant-ended' : 'completed',
      })),
      ...expired.map((requestId): InterventionReportNotice => ({ requestId, trigger: 'grant-expired' })),
    ];
    const queued: string[] = [];
    for (const end of ends) if (await this.queue(m, end, now)) queued.push(end.requestId);
    const next: Cursor = {
      seq: records.length === BATCH ? records.at(-1)!.seq : headSeq,
      grantsUntil: now.toISOString(),
    };
    await writeSetting(m, CURSOR_KEY, next);
    return queued;
  }

  /** The digests of the last whole day and week, once a local day; returns their outbox keys. */
  private async queueDigests(m: EntityManager): Promise<string[]> {
    const now = this.clock.now();
    const today = localDate(now, this.config.CONSOLE_TIME_ZONE);
    if (this.digestsQueuedOn === today) return [];
    const queued: string[] = [];
    for (const group of this.policies.set?.deviceGroups ?? []) {
      const recipients = group.reports?.recipients ?? [];
      for (const period of recipients.length ? (group.reports?.digest ?? []) : []) {
        const notice: DigestNotice = {
          group: group.name,
          period,
          date: lastCompleteSpan(period, now, this.config.CONSOLE_TIME_ZONE).date,
        };
        const key = digestKey(notice);
        if (await this.outbox.enqueueReport(m, 'report.digest', key, [...recipients].sort(), notice, now))
          queued.push(key);
      }
    }
    this.digestsQueuedOn = today;
    return queued;
  }

  /** The job's place, locked for this round; null (and the place set to now) on the very first round. */
  private async cursor(m: EntityManager, headSeq: number, now: Date): Promise<Cursor | null> {
    const cursor = await readSettingForUpdate<Cursor>(m, CURSOR_KEY);
    if (cursor) return cursor;
    const start: Cursor = { seq: headSeq, grantsUntil: now.toISOString() };
    await writeSettingOnce(m, CURSOR_KEY, start);
    return null;
  }

  /**
   * Queues one report: for a request that was allowed (a repeat under a grant belongs to the
   * grant's report; a grant's end counts only when actions ran under it), to its groups'
   * recipients. Returns whether a report was queued now.
   */
  private async queue(m: EntityManager, end: InterventionReportNotice, now: Date): Promise<boolean> {
    const [request] = await this.requests.byIds(m, [end.requestId]);
    if (!request || request.grantId !== null) return false;
    if (end.trigger !== 'completed' && !(await this.ranUnderGrant(m, end.requestId))) return false;
    const recipients = reportRecipients(this.policies.set, request.deviceGroups);
    if (recipients.length === 0) return false;
    return this.outbox.enqueueReport(m, 'report.intervention', end.requestId, recipients, end, now);
  }

  /** Whether any request was allowed under the grant that approving this one made. */
  private async ranUnderGrant(m: EntityManager, requestId: string): Promise<boolean> {
    const grant = await this.grants.byRequest(requestId, m);
    return grant !== null && (await this.requests.countUnderGrant(m, grant.id)) > 0;
  }
}
