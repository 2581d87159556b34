import { Injectable } from '@nestjs/common';
import { subject } from '@casl/ability';
import { DataSource } from 'typeorm';
import type { StaffPrincipal } from '../auth/principal.js';
import { Clock } from '../common/clock.js';
import { DeviceEntity } from './device.entity.js';
import { DevicesService, STATE_MAX_AGE_MS, type DeviceView } from './devices.service.js';

export type DeviceStateFilter = 'in-use' | 'idle' | 'unknown';
export type LastSeenFilter = 'hour' | 'day' | 'stale' | 'never';

export interface DeviceSearchQuery {
  /** Part of the id, model, site or serial number (case-insensitive). */
  text?: string;
  /** A device group, as the policy files and the enrollment token give it. */
  group?: string;
  state?: DeviceStateFilter;
  lastSeen?: LastSeenFilter;
  revoked?: boolean;
  /** Keyset pagination: devices with an id after this one. */
  after?: string;
  limit: number;
}

/** Rows read per round after the first while filling a page; a group filter is applied to each round. */
const BATCH = 500;
/** A page reads at most this many rows, so that a rare group never scans all devices at once. */
const MAX_SCANNED = 5_000;

const likePattern = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/**
 * The device list for people: search and filters in SQL where the columns hold them, the
 * device groups (worked out from the policy files' match rules) and the caller's scope on
 * each round of rows. Pages follow the id (a cursor), so a page costs the same at 10,000 devices.
 */
@Injectable()
export class DeviceSearch {
  constructor(
    private readonly dataSource: DataSource,
    private readonly devices: DevicesService,
    private readonly clock: Clock,
  ) {}

  async search(
    staff: StaffPrincipal,
    q: DeviceSearchQuery,
  ): Promise<{ items: DeviceView[]; nextCursor: string | null }> {
    const items: DeviceView[] = [];
    let after = q.after;
    let scanned = 0;
    // The first round reads one page (and one more row): with no group filter and a caller who
    // sees every device, that is the page. Reading BATCH rows at once made every list page build
    // 500 views (each matching the policy files' device groups) for 50 shown.
    let size = q.limit + 1;
    for (;;) {
      const rows = await this.batch(q, after, size);
      scanned += rows.length;
      for (const row of rows) {
        after = row.id;
        const view = this.devices.view(row);
        if (q.group && !view.groups.includes(q.group)) continue;
        if (!staff.ability.can('read', subject('Device', { deviceGroups: view.groups }) as never)) continue;
        items.push(view);
        // One more than a page tells that there is a next page; the cursor is the last shown.
        if (items.length > q.limit) {
          const page = items.slice(0, q.limit);
          return { items: page, nextCursor: page[page.length - 1].id };
        }
      }
      if (rows.length < size) return { items, nextCursor: null };
      // Too many rows left out by the group or scope: the page ends here, "next" goes on from the last row read.
      if (scanned >= MAX_SCANNED) return { items, nextCursor: after ?? null };
      size = BATCH;
    }
  }

  private batch(q: DeviceSearchQuery, after: string | undefined, size: number): Promise<DeviceEntity[]> {
    const now = this.clock.now();
    const fresh = new Date(now.getTime() - STATE_MAX_AGE_MS);
    const qb = this.dataSource.getRepository(DeviceEntity).createQueryBuilder('d').orderBy('d.id', 'ASC').limit(size);
    if (after !== undefined) qb.andWhere('d.id > :after', { after });
    if (q.text) {
      qb.andWhere(
        "(d.id ILIKE :text ESCAPE '\\' OR d.model ILIKE :text ESCAPE '\\' OR d.site ILIKE :text ESCAPE '\\'" +
          " OR d.serial_number ILIKE :text ESCAPE '\\')",
        { text: likePattern(q.text) },
      );
    }
    if (q.revoked !== undefined) qb.andWhere(q.revoked ? 'd.revoked_at IS NOT NULL' : 'd.revoked_at IS NULL');
    const freshState = 'd.state_reported_at >= :fresh';
    if (q.state === 'in-use') qb.andWhere(`${freshState} AND d.state->>'inUse' = 'true'`, { fresh });
    else if (q.state === 'idle') qb.andWhere(`${freshState} AND d.state->>'inUse' = 'false'`, { fresh });
    else if (q.state === 'unknown') {
      // Stale counts as unknown (agent-api.md): an old "idle" must not read as idle now.
      qb.andWhere(`(d.state_reported_at IS NULL OR d.state_reported_at < :fresh OR d.state->>'inUse' IS NULL)`, {
        fresh,
      });
    }
    const hourAgo = new Date(now.getTime() - 3_600_000);
    const dayAgo = new Date(now.getTime() - 86_400_000);
    if (q.lastSeen === 'hour') qb.andWhere('d.last_seen_at >= :hourAgo', { hourAgo });
    else if (q.lastSeen === 'day') qb.andWhere('d.last_seen_at >= :dayAgo', { dayAgo });
    else if (q.lastSeen === 'stale') qb.andWhere('d.last_seen_at < :dayAgo', { dayAgo });
    else if (q.lastSeen === 'never') qb.andWhere('d.last_seen_at IS NULL');
    return qb.getMany();
  }
}
