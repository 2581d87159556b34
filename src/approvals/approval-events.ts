import { Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import { canOnApproval } from './approver-rights.js';
import type { ServerResponse } from 'node:http';
import type { StaffPrincipal } from '../auth/principal.js';
import { SessionsService } from '../auth/sessions.service.js';
import { Clock } from '../common/clock.js';
import { NotificationBus } from '../database/notification-bus.js';
import type { DecisionRequestEntity } from '../decisions/decision-request.entity.js';
import { DecisionRequests } from '../decisions/decision-requests.js';
import { effectiveStatus } from '../decisions/decision-view.js';
import { GatehouseMetrics } from '../metrics/gatehouse-metrics.js';

const KEEP_ALIVE_MS = 15_000;
const MAX_BUFFERED_BYTES = 1 << 20;
/**
 * A stream ends after this long and the client reconnects (after `retry` ms) with its
 * bearer token: the reconnect checks the session and its roles again.
 */
const MAX_STREAM_MS = 5 * 60_000;
/**
 * How often the sessions behind open streams are checked (one query for all of them, on this
 * replica): a stream ends within this time of its logout, its session's expiry or idle limit,
 * or its user being disabled, on whichever replica that happened.
 */
const SESSION_CHECK_MS = 2_000;

interface Subscriber {
  staff: StaffPrincipal;
  res: ServerResponse;
}

/**
 * The console's live queue: a server-sent-events stream per signed-in viewer of
 * approvals. Every change to a request that went to approvers (new, a vote, approved,
 * rejected, expired, cancelled), on any replica, arrives through the bus; each is read
 * once and sent to the subscribers whose device scope covers it.
 */
@Injectable()
export class ApprovalEvents implements BeforeApplicationShutdown {
  private readonly logger = new Logger('ApprovalEvents');
  private readonly subscribers = new Set<Subscriber>();
  private readonly keepAlive: NodeJS.Timeout;
  private readonly sessionCheck: NodeJS.Timeout;
  private seq = 0;

  constructor(
    private readonly clock: Clock,
    private readonly sessions: SessionsService,
    private readonly requests: DecisionRequests,
    bus: NotificationBus,
    metrics: GatehouseMetrics,
  ) {
    metrics.countEventStreams(() => this.subscribers.size);
    bus.on('decision.changed', (message) => {
      if (this.subscribers.size > 0) void this.broadcast(message.key);
    });
    this.keepAlive = setInterval(() => {
      for (const s of this.subscribers) s.res.write(': keep-alive\n\n');
    }, KEEP_ALIVE_MS);
    this.keepAlive.unref();
    this.sessionCheck = setInterval(() => void this.endStreamsOfEndedSessions(), SESSION_CHECK_MS);
    this.sessionCheck.unref();
  }

  /** Ends the streams whose session has ended; when sessions cannot be checked, all of them (fail safe). */
  private async endStreamsOfEndedSessions(): Promise<void> {
    if (this.subscribers.size === 0) return;
    const open = [...this.subscribers];
    let live: Set<string>;
    try {
      live = await this.sessions.liveAmong([...new Set(open.map((s) => s.staff.sessionId))]);
    } catch (error) {
      this.logger.warn(
        `Cannot check the sessions of the live queue's streams, ending them: ${(error as Error).message}`,
      );
      live = new Set();
    }
    for (const s of open) {
      if (live.has(s.staff.sessionId)) continue;
      // Said before the end so that the console signs in again instead of reconnecting.
      s.res.end('event: session-ended\ndata: {}\n\n');
      this.subscribers.delete(s);
    }
  }

  subscribe(staff: StaffPrincipal, res: ServerResponse, requestId: string): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      'x-request-id': requestId,
      'x-content-type-options': 'nosniff',
    });
    // Changes made while a client was away are not replayed: `resync` tells it to re-read the
    // queue (GET /api/v1/approvals) and then follow the events.
    res.write('retry: 3000\n: connected\nevent: resync\ndata: {}\n\n');
    const subscriber = { staff, res };
    this.subscribers.add(subscriber);
    const expiry = setTimeout(() => res.end(), MAX_STREAM_MS);
    expiry.unref();
    res.on('close', () => {
      clearTimeout(expiry);
      this.subscribers.delete(subscriber);
    });
  }

  beforeApplicationShutdown(): void {
    clearInterval(this.keepAlive);
    clearInterval(this.sessionCheck);
    for (const s of this.subscribers) s.res.end();
    this.subscribers.clear();
  }

  private async broadcast(requestId: string): Promise<void> {
    let row: DecisionRequestEntity | null;
    try {
      row = await this.requests.get(requestId);
    } catch (error) {
      this.logger.warn(`Could not read request ${requestId} for the live queue: ${(error as Error).message}`);
      return;
    }
    if (!row?.approval) return;
    const data = JSON.stringify({
      requestId,
      status: effectiveStatus(row, this.clock.now().getTime()),
      deviceId: row.deviceId,
      deviceGroups: row.deviceGroups,
      action: row.action,
      remoteUser: row.remoteUser.id,
      expiresAt: row.expiresAt?.toISOString() ?? null,
    });
    const frame = `id: ${++this.seq}\nevent: approval\ndata: ${data}\n\n`;
    for (const s of this.subscribers) {
      if (!canOnApproval(s.staff.ability, 'read', row.deviceGroups)) continue;
      // A client that does not read (a phone gone to sleep) is dropped, not buffered without end;
      // it reconnects and resyncs.
      if (s.res.writableLength > MAX_BUFFERED_BYTES) s.res.end();
      else s.res.write(frame);
    }
  }
}
