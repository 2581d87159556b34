import { Inject, Injectable } from '@nestjs/common';
import { canOnApproval } from '../approvals/approver-rights.js';
import { AuditCheckpointsService } from '../audit/audit-checkpoints.service.js';
import { AuditReads } from '../audit/audit-reads.js';
import type { StaffPrincipal } from '../auth/principal.js';
import { forbidden, notFound } from '../common/api-error.js';
import { Clock } from '../common/clock.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { DevicesService } from '../devices/devices.service.js';
import { PolicyService } from '../policies/policy.service.js';
import { coveringCheckpoint } from './covering-checkpoint.js';
import { digestOf, type Digest } from './digest.js';
import { digestDocument } from './digest-document.js';
import { digestSpan, lastCompleteSpan, type DigestPeriod, type DigestSpan } from './digest-period.js';
import type { ReportDocument } from './report-sections.js';

/**
 * Daily and weekly digests of a device group, from the audit records of the group's devices
 * (the devices in the group now, as the audit search's deviceGroup filter reads it).
 */
@Injectable()
export class Digests {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly auditReads: AuditReads,
    private readonly devices: DevicesService,
    private readonly policies: PolicyService,
    private readonly checkpoints: AuditCheckpointsService,
    private readonly clock: Clock,
  ) {}

  /**
   * For a reader: auditors and admins any group, approvers the groups they decide for (others
   * read as not found, like unknown groups); a role that approves nothing is refused.
   */
  async forStaff(staff: StaffPrincipal, group: string, period: DigestPeriod, date?: string): Promise<ReportDocument> {
    if (!staff.ability.can('read', 'AuditRecord') && !staff.ability.can('decide', 'Approval')) {
      throw forbidden('Digests are for auditors, administrators and approvers');
    }
    const known = this.policies.set?.deviceGroups.some((g) => g.name === group) ?? false;
    if (!known || !(staff.ability.can('read', 'AuditRecord') || canOnApproval(staff.ability, 'decide', [group]))) {
      throw notFound('Device group');
    }
    const span = date
      ? digestSpan(period, date, this.config.CONSOLE_TIME_ZONE)
      : lastCompleteSpan(period, this.clock.now(), this.config.CONSOLE_TIME_ZONE);
    return this.document(await this.build(group, span));
  }

  async build(group: string, span: DigestSpan): Promise<Digest> {
    const devices = (await this.devices.list()).filter((d) => d.groups.includes(group)).map((d) => d.id);
    const records = await this.auditReads.ofDevicesBetween(devices, span.from, span.to);
    const completed = records.filter((r) => r.eventType === 'decision.completed').map((r) => r.requestId!);
    // When each completed session was allowed (its answer or its grant), which may precede the period.
    const allowedAt = await this.auditReads.latestOfEventsByRequest(completed, ['decision', 'grant.created']);
    const checkpoint = await coveringCheckpoint(this.checkpoints, records.at(-1)?.seq ?? 0);
    return digestOf(group, span, records, allowedAt, checkpoint);
  }

  document(digest: Digest): ReportDocument {
    return digestDocument(digest, this.config.CONSOLE_TIME_ZONE);
  }
}
