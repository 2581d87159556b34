import { Injectable } from '@nestjs/common';
import { ApprovalQueue } from '../approvals/approval-queue.js';
import type { StaffPrincipal } from '../auth/principal.js';
import { may } from './nav.js';

/** Shown as "100+" past this: the badge says "many", it does not count the backlog. */
export const INBOX_SIZE = 100;

/** How many requests wait for this person, for the menu's badge ("" when none, or not theirs to see). */
@Injectable()
export class PendingCount {
  constructor(private readonly queue: ApprovalQueue) {}

  async of(staff: StaffPrincipal): Promise<string> {
    if (!may(staff, 'read', 'Approval')) return '';
    const { items, nextCursor } = await this.queue.list(staff, {
      status: 'pending',
      sort: 'createdAt',
      order: 'desc',
      limit: INBOX_SIZE,
    });
    return items.length === 0 ? '' : `${items.length}${nextCursor ? '+' : ''}`;
  }
}
