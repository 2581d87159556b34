import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DeviceEntity } from '../devices/device.entity.js';
import { PolicyService } from '../policies/policy.service.js';
import type { ChainedRecord } from './audit-chain.js';
import { decodeAuditCursor, encodeAuditCursor } from './audit-cursor.js';
import { auditConditions, whereClause } from './audit-filters.js';
import { fromRow, type AuditRow } from './audit-row.js';
import { AuditSealer } from './sealer/audit-sealer.js';
import { AUDIT_SORTS, type AuditFilters, type AuditSearchQuery } from './audit-search.dto.js';

/** Auditors' search over the whole trail: filtered, paged by seq (newest or oldest first). */
@Injectable()
export class AuditSearch {
  constructor(
    private readonly dataSource: DataSource,
    private readonly policies: PolicyService,
    private readonly sealer: AuditSealer,
  ) {}

  async search(q: AuditSearchQuery): Promise<{ items: ChainedRecord[]; nextCursor: string | null }> {
    await this.sealer.sealPending();
    const dir = AUDIT_SORTS[q.sort];
    const c = auditConditions(q, await this.devicesInGroup(q));
    if (q.cursor) {
      c.params.push(decodeAuditCursor(q.cursor, q.sort));
      c.where.push(`seq ${dir === 'DESC' ? '<' : '>'} $${c.params.length}`);
    }
    const rows = await this.dataSource.query<AuditRow[]>(
      `SELECT * FROM audit_records ${whereClause(c)} ORDER BY seq ${dir} LIMIT ${q.limit + 1}`,
      c.params,
    );
    const items = rows.slice(0, q.limit).map(fromRow);
    const last = items[items.length - 1];
    return { items, nextCursor: rows.length > q.limit && last ? encodeAuditCursor(q.sort, last.seq) : null };
  }

  /**
   * The deviceGroup filter as device ids: the devices in that group now, by their assigned
   * groups and the policy's group rules (as decisions place them). Devices are few (thousands),
   * records many: the records are then found through the device_id index.
   */
  private async devicesInGroup(f: AuditFilters): Promise<string[] | undefined> {
    if (!f.deviceGroup) return undefined;
    const devices = await this.dataSource.getRepository(DeviceEntity).find();
    const grouper = this.policies.grouper;
    return devices
      .filter((d) =>
        grouper
          ? grouper.groupsOf({ ...d, deviceId: d.id }).has(f.deviceGroup!)
          : d.assignedGroups.includes(f.deviceGroup!),
      )
      .map((d) => d.id);
  }
}
