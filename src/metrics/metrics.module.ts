import { Global, Module, type DynamicModule } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ApprovalsModule } from '../approvals/approvals.module.js';
import { NotificationSender } from '../approvals/notifications/notification-sender.js';
import { AuditModule } from '../audit/audit.module.js';
import { AuditService } from '../audit/audit.service.js';
import { ForwardingModule } from '../audit/forwarding/forwarding.module.js';
import { ForwardingService } from '../audit/forwarding/forwarding.service.js';
import { Clock } from '../common/clock.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { DecisionRequests } from '../decisions/decision-requests.js';
import { DecisionsModule } from '../decisions/decisions.module.js';
import { PoliciesModule } from '../policies/policies.module.js';
import { PolicyService } from '../policies/policy.service.js';
import { GatehouseMetrics } from './gatehouse-metrics.js';
import { MetricsController } from './metrics.controller.js';
import { MetricsListener } from './metrics-listener.js';
import { MetricsScrape } from './metrics-scrape.js';
import { StateGauges } from './state-gauges.js';
import { UnknownMetricsGroupsWarning } from './unknown-groups-warning.js';

/**
 * Prometheus metrics (GET /metrics). Global: the modules that count (decisions, approvals,
 * throttling, policies) inject GatehouseMetrics without importing this module.
 */
@Global()
@Module({})
export class MetricsModule {
  /** `metrics` is made before Nest (createApp), as the address limits, a Fastify hook, count too. */
  static forMetrics(metrics: GatehouseMetrics): DynamicModule {
    return {
      module: MetricsModule,
      imports: [PoliciesModule, ForwardingModule, AuditModule, DecisionsModule, ApprovalsModule],
      controllers: [MetricsController],
      providers: [
        { provide: GatehouseMetrics, useValue: metrics },
        STATE_GAUGES,
        METRICS_SCRAPE,
        METRICS_LISTENER,
        UNKNOWN_GROUPS_WARNING,
      ],
      exports: [GatehouseMetrics],
    };
  }
}

const STATE_GAUGES = {
  provide: StateGauges,
  inject: [
    GatehouseMetrics,
    DataSource,
    DecisionRequests,
    AuditService,
    NotificationSender,
    Clock,
    PolicyService,
    ForwardingService,
    APP_CONFIG,
  ],
  useFactory: (
    metrics: GatehouseMetrics,
    dataSource: DataSource,
    requests: DecisionRequests,
    audit: AuditService,
    notifications: NotificationSender,
    clock: Clock,
    policies: PolicyService,
    forwarding: ForwardingService,
    config: AppConfig,
  ) =>
    new StateGauges(metrics.registry, {
      dataSource,
      requests,
      audit,
      notifications,
      clock,
      policies,
      forwarding,
      directoryConfigured: Boolean(config.LDAP_URL),
    }),
};

const METRICS_SCRAPE = {
  provide: MetricsScrape,
  inject: [APP_CONFIG, GatehouseMetrics, StateGauges],
  useFactory: (config: AppConfig, metrics: GatehouseMetrics, state: StateGauges) =>
    new MetricsScrape(config.METRICS_TOKEN, metrics, state),
};

/** null without METRICS_LISTEN (Nest calls no lifecycle hook on it then). */
const METRICS_LISTENER = {
  provide: MetricsListener,
  inject: [APP_CONFIG, MetricsScrape],
  useFactory: (config: AppConfig, scrape: MetricsScrape) =>
    config.METRICS_LISTEN ? new MetricsListener(config.METRICS_LISTEN, scrape) : null,
};

const UNKNOWN_GROUPS_WARNING = {
  provide: UnknownMetricsGroupsWarning,
  inject: [APP_CONFIG, PolicyService],
  useFactory: (config: AppConfig, policies: PolicyService) =>
    new UnknownMetricsGroupsWarning(config.METRICS_DEVICE_GROUPS, policies),
};
