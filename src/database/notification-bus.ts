import { EventEmitter } from 'node:events';
import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import pg from 'pg';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { Database } from './database.js';

const CHANNEL = 'gatehouse_events';
const RECONNECT_MS = 1000;
/** An internal event, not a BusTopic: no replica publishes it. */
const RECONNECTED = 'listener.reconnected';

export type BusTopic = 'policy.changed' | 'device.revoked' | 'decision.changed' | 'access.ended';

export interface BusMessage {
  topic: BusTopic;
  key: string;
  /** The process that published it (a replica hears its own messages too, once). */
  origin: string;
}

/**
 * Changes that other replicas must hear about (policy edits, revocations, decided
 * requests) travel by PostgreSQL LISTEN/NOTIFY; on the embedded database there is only
 * this process, so messages are delivered locally. Delivery is best effort: listeners
 * must also be correct without it (caches expire, long polls re-read at their deadline).
 */
@Injectable()
export class NotificationBus implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('NotificationBus');
  private readonly events = new EventEmitter();
  private readonly origin = `${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  private client?: pg.Client;
  private stopped = false;
  private retry?: NodeJS.Timeout;
  private listenedBefore = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly database: Database,
  ) {
    this.events.setMaxListeners(0);
  }

  async onModuleInit(): Promise<void> {
    if (this.database.kind === 'postgres') await this.listen();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    await this.client?.end().catch(() => undefined);
  }

  /**
   * Runs after each LISTEN reconnect: notifications sent while the connection was down are
   * lost, so whoever relies on them re-reads what they would have said.
   */
  onReconnect(handler: () => void): void {
    this.events.on(RECONNECTED, handler);
  }

  /** The PostgreSQL backend serving LISTEN (undefined while disconnected). */
  get listenerBackendPid(): number | undefined {
    // pg sets processID from the BackendKeyData message; its typings do not declare it.
    const client = this.client as { processID?: number } | undefined;
    return client?.processID;
  }

  /** Whether this process published the message. */
  isOwn(message: BusMessage): boolean {
    return message.origin === this.origin;
  }

  on(topic: BusTopic, handler: (message: BusMessage) => void): void {
    this.events.on(topic, handler);
  }

  /**
   * Tells every replica (this one included). Never throws: when PostgreSQL cannot take the
   * notification, this process still hears it (its own long polls wake at once) and the
   * others fall back on their deadlines and caches' expiry.
   */
  async publish(topic: BusTopic, key: string): Promise<void> {
    const message: BusMessage = { topic, key, origin: this.origin };
    if (this.database.kind === 'embedded' || !this.client) {
      this.deliver(message);
      return;
    }
    try {
      await this.database.dataSource.query('SELECT pg_notify($1, $2)', [CHANNEL, JSON.stringify(message)]);
    } catch (error) {
      this.logger.warn(`Could not notify other replicas of ${topic} ${key}: ${(error as Error).message}`);
      this.deliver(message);
    }
  }

  private deliver(message: BusMessage): void {
    this.events.emit(message.topic, message);
  }

  private async listen(): Promise<void> {
    if (this.stopped) return;
    const client = new pg.Client({ connectionString: this.config.DATABASE_URL, application_name: 'gatehouse-bus' });
    client.on('notification', (n) => {
      try {
        this.deliver(JSON.parse(n.payload ?? '') as BusMessage);
      } catch {
        this.logger.warn(`Ignored a malformed notification on ${CHANNEL}`);
      }
    });
    client.on('error', (error) => {
      this.logger.warn(`Notification connection lost (${error.message}); reconnecting`);
      this.reconnect(client);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
      if (this.stopped) {
        await client.end();
        return;
      }
      this.client = client;
      if (this.listenedBefore) {
        this.logger.log('Listening for notifications again');
        this.events.emit(RECONNECTED);
      }
      this.listenedBefore = true;
    } catch (error) {
      this.logger.warn(`Cannot listen for notifications (${(error as Error).message}); retrying`);
      this.reconnect(client);
    }
  }

  private reconnect(old: pg.Client): void {
    if (this.client === old) this.client = undefined;
    void old.end().catch(() => undefined);
    if (this.stopped) return;
    clearTimeout(this.retry);
    this.retry = setTimeout(() => void this.listen(), RECONNECT_MS);
    this.retry.unref();
  }
}
