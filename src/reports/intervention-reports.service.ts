import { Inject, Injectable } from '@nestjs/common';
import { AuditCheckpointsService } from '../audit/audit-checkpoints.service.js';
import { AuditStory } from '../audit/audit-story.js';
import type { SignedCheckpoint } from '../audit/checkpoint-format.js';
import type { StaffPrincipal } from '../auth/principal.js';
import { forbidden } from '../common/api-error.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { coveringCheckpoint } from './covering-checkpoint.js';
import { interventionDocument } from './intervention-document.js';
import { interventionReport, type InterventionReport } from './intervention-report.js';
import type { ReportDocument } from './report-sections.js';

/** Builds intervention reports from the audit trail, each with the signed checkpoint that covers it. */
@Injectable()
export class InterventionReports {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly story: AuditStory,
    private readonly checkpoints: AuditCheckpointsService,
  ) {}

  /**
   * For a reader: auditors and admins any, approvers those of their devices (others read as not
   * found, as the story does); a role that approves nothing (a viewer) is refused outright.
   */
  async forStaff(staff: StaffPrincipal, requestId: string): Promise<ReportDocument> {
    if (!staff.ability.can('read', 'AuditRecord') && !staff.ability.can('decide', 'Approval')) {
      throw forbidden('Intervention reports are for auditors, administrators and approvers');
    }
    const story = await this.story.of(staff, requestId);
    return this.document(interventionReport(story, await this.covering(lastSeqOf(story.events))));
  }

  /** On the server's own account (the mailer): no reader's scope. */
  async build(requestId: string): Promise<InterventionReport> {
    const story = await this.story.fromTrail(requestId);
    return interventionReport(story, await this.covering(lastSeqOf(story.events)));
  }

  document(report: InterventionReport): ReportDocument {
    return interventionDocument(report, this.config.CONSOLE_TIME_ZONE);
  }

  private covering(seq: number): Promise<SignedCheckpoint | null> {
    return coveringCheckpoint(this.checkpoints, seq);
  }
}

const lastSeqOf = (events: { seq: number }[]): number => events.at(-1)?.seq ?? 0;
