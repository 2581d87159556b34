import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Transporter } from 'nodemailer';
import { smtpTransport } from '../approvals/notifications/channels.js';
import { NotificationSender } from '../approvals/notifications/notification-sender.js';
import { actorEvent } from '../audit/actor.js';
import { AuditService } from '../audit/audit.service.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { InterventionReports } from './intervention-reports.service.js';
import { formatDuration } from './intervention-report.js';
import type { DigestNotice, InterventionReportNotice } from './report-jobs.js';
import { Digests } from './digests.service.js';
import { digestSpan } from './digest-period.js';
import { reportHtml } from './report-html.js';
import { reportPdf } from './report-pdf.js';
import type { ReportDocument } from './report-sections.js';

const SYSTEM = { type: 'system' as const, id: 'reports' };

/**
 * E-mails intervention reports and digests queued by ReportJobs, through the notification outbox (claims,
 * retries, failures audited as notification.failed): the report is built from the trail when
 * it is sent, attached as PDF and HTML, and each sending is audited (`report.sent`).
 */
@Injectable()
export class ReportMailer implements OnModuleInit, OnApplicationShutdown {
  private readonly transport: Transporter | undefined;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly sender: NotificationSender,
    private readonly reports: InterventionReports,
    private readonly digests: Digests,
    private readonly audit: AuditService,
  ) {
    this.transport = smtpTransport(config);
  }

  onModuleInit(): void {
    if (!this.transport) return;
    this.sender.deliverEvent('report.intervention', (recipients, payload, deliveryId) =>
      this.sendIntervention(recipients, payload as unknown as InterventionReportNotice, deliveryId),
    );
    this.sender.deliverEvent('report.digest', (recipients, payload, deliveryId) =>
      this.sendDigest(recipients, payload as unknown as DigestNotice, deliveryId),
    );
  }

  onApplicationShutdown(): void {
    this.transport?.close();
  }

  private async sendIntervention(recipients: string[], notice: InterventionReportNotice, deliveryId: string) {
    const report = await this.reports.build(notice.requestId);
    const doc = this.reports.document(report);
    await this.mail(recipients, doc, `intervention-${notice.requestId}`, {
      subject: `${doc.title} (${formatDuration(report.durationSeconds)})`,
      link: `/api/v1/reports/interventions/${notice.requestId}?format=pdf`,
    });
    await this.audit.append(
      actorEvent(SYSTEM, 'report.sent', {
        requestId: notice.requestId,
        deviceId: report.deviceId,
        action: report.action,
        remoteUser: report.remoteUser,
        details: {
          report: 'intervention',
          trigger: notice.trigger,
          recipients,
          deliveryId,
          lastSeq: report.lastSeq,
          checkpointSeq: report.checkpoint?.seq ?? null,
        },
      }),
    );
  }

  private async sendDigest(recipients: string[], notice: DigestNotice, deliveryId: string) {
    const span = digestSpan(notice.period, notice.date, this.config.CONSOLE_TIME_ZONE);
    const digest = await this.digests.build(notice.group, span);
    const doc = this.digests.document(digest);
    const query = `period=${notice.period}&date=${notice.date}&format=pdf`;
    await this.mail(recipients, doc, `digest-${notice.period}-${notice.date}`, {
      subject: doc.title,
      link: `/api/v1/reports/digests/${encodeURIComponent(notice.group)}?${query}`,
    });
    await this.audit.append(
      actorEvent(SYSTEM, 'report.sent', {
        details: {
          report: `digest-${notice.period}`,
          group: notice.group,
          date: notice.date,
          recipients,
          deliveryId,
          lastSeq: digest.lastSeq,
          checkpointSeq: digest.checkpoint?.seq ?? null,
        },
      }),
    );
  }

  /** The report's facts as the body, PDF and HTML attached, and the link to download it again. */
  private async mail(recipients: string[], doc: ReportDocument, name: string, m: { subject: string; link: string }) {
    await this.transport!.sendMail({
      from: this.config.SMTP_FROM,
      to: recipients,
      subject: `[Gatehouse] ${m.subject}`,
      text: `${plainText(doc)}\nThe report as PDF: ${this.config.PUBLIC_URL ?? ''}${m.link}\n`,
      attachments: [
        { filename: `${name}.pdf`, content: await reportPdf(doc), contentType: 'application/pdf' },
        { filename: `${name}.html`, content: await reportHtml(doc), contentType: 'text/html; charset=utf-8' },
      ],
    });
  }
}

/** The report's facts as lines of text (the e-mail's body; the attachments hold the tables too). */
function plainText(doc: ReportDocument): string {
  const lines = [doc.title, doc.subtitle, ''];
  for (const s of doc.sections) {
    lines.push(s.title, ...(s.facts ?? []).map(([term, value]) => `  ${term}: ${value}`));
    if (s.table) lines.push(...s.table.rows.map((row) => `  - ${row.join(' | ')}`));
    lines.push('');
  }
  return lines.join('\n');
}
