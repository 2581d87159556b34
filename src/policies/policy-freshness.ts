import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { NotificationBus } from '../database/notification-bus.js';
import { PolicyService } from './policy.service.js';

/**
 * A console rule changed on another replica reaches this one by a NOTIFY, which is lost
 * while the LISTEN connection is down. So each replica also compares its console rules
 * with the database every POLICY_CHECK_SECONDS and after each LISTEN reconnect, and
 * reloads when they differ: a missed deny is in force here within that time, not never.
 */
@Injectable()
export class PolicyFreshness implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Policies');
  private timer?: NodeJS.Timeout;
  private checking = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly policies: PolicyService,
    private readonly bus: NotificationBus,
  ) {}

  onModuleInit(): void {
    this.bus.onReconnect(() => void this.check('after a notification reconnect'));
    if (this.config.POLICY_CHECK_SECONDS > 0) {
      this.timer = setInterval(() => void this.check('periodic check'), this.config.POLICY_CHECK_SECONDS * 1000);
      this.timer.unref();
    }
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** Never throws: a database that cannot answer now is asked again at the next check. */
  async check(why: string): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      if (!(await this.policies.consoleRulesChanged())) return;
      this.logger.warn(`Console rules changed without a notification reaching this replica (${why}): reloading`);
      await this.policies.reload({ type: 'system', id: 'replica' });
    } catch (error) {
      this.logger.warn(`Could not check the console rules in force (${why}): ${(error as Error).message}`);
    } finally {
      this.checking = false;
    }
  }
}
