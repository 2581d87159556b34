import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { AgentPolicyModule } from './agent-policy/agent-policy.module.js';
import { AccessModule } from './access/access.module.js';
import { ApprovalsModule } from './approvals/approvals.module.js';
import { AuditModule } from './audit/audit.module.js';
import { AuditSearchModule } from './audit/audit-search.module.js';
import { CheckpointScheduler } from './audit/checkpoint-scheduler.js';
import { ForwardingModule } from './audit/forwarding/forwarding.module.js';
import { AuthModule } from './auth/auth.module.js';
import { Clock, SystemClock } from './common/clock.js';
import { GlobalErrorFilter } from './common/error.filter.js';
import { ConfigModule } from './config/config.module.js';
import { ConsoleModule } from './console/console.module.js';
import type { AppConfig } from './config/config.schema.js';
import { Database } from './database/database.js';
import { DatabaseModule } from './database/database.module.js';
import { DecisionsModule } from './decisions/decisions.module.js';
import { DirectoryScheduler } from './directory/directory-scheduler.js';
import { DirectoryModule } from './directory/directory.module.js';
import { HealthController } from './health/health.controller.js';
import { GatehouseMetrics } from './metrics/gatehouse-metrics.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { PoliciesModule } from './policies/policies.module.js';
import { ReportsModule } from './reports/reports.module.js';
import { UsersModule } from './users/users.module.js';

@Module({})
class ClockModule {
  static with(clock: Clock): DynamicModule {
    return { module: ClockModule, global: true, providers: [{ provide: Clock, useValue: clock }], exports: [Clock] };
  }
}

export interface AppModuleOptions {
  config: AppConfig;
  database: Database;
  clock?: Clock;
  /** Made by createApp, which also counts the address limits' refusals with it. */
  metrics?: GatehouseMetrics;
}

/** The whole application, wired for a given configuration and open database. */
@Module({})
export class AppModule {
  static register(options: AppModuleOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(options.config),
        DatabaseModule.forDatabase(options.database),
        ClockModule.with(options.clock ?? new SystemClock()),
        AuditModule,
        AuditSearchModule,
        ForwardingModule,
        PoliciesModule,
        UsersModule,
        DirectoryModule,
        AuthModule,
        DecisionsModule,
        AgentPolicyModule,
        ApprovalsModule,
        ReportsModule,
        AccessModule,
        ConsoleModule,
        MetricsModule.forMetrics(
          options.metrics ??
            new GatehouseMetrics({
              tlsCert: options.config.tls?.cert,
              deviceGroups: options.config.METRICS_DEVICE_GROUPS,
            }),
        ),
      ],
      controllers: [HealthController],
      providers: [{ provide: APP_FILTER, useClass: GlobalErrorFilter }, DirectoryScheduler, CheckpointScheduler],
    };
  }
}
