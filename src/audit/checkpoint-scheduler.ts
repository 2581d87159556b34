import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { AuditCheckpointsService } from './audit-checkpoints.service.js';

/**
 * The server's checkpoint schedule (not the CLI's): every AUDIT_CHECKPOINT_MINUTES a signed
 * checkpoint of the chain's head, when it moved. Every replica ticks; a head checkpointed twice
 * is stored once.
 */
@Injectable()
export class CheckpointScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('AuditCheckpoints');
  private timer: NodeJS.Timeout | undefined;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly checkpoints: AuditCheckpointsService,
  ) {}

  onApplicationBootstrap(): void {
    const minutes = this.config.AUDIT_CHECKPOINT_MINUTES;
    if (minutes === 0) return;
    this.timer = setInterval(() => void this.tick(), minutes * 60_000);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** One scheduled checkpoint; a failure is logged and the next tick tries again. */
  async tick(): Promise<void> {
    try {
      await this.checkpoints.create();
    } catch (error) {
      this.logger.error(`Checkpoint failed: ${(error as Error).message}`);
    }
  }
}
