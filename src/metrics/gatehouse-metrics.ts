import { X509Certificate } from 'node:crypto';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { ACTION_CATALOGUE } from '../policies/policy-vocabulary.js';
import { OTHER_DEVICE_GROUP } from './metrics-device-groups.js';

/** A decision's status as stored, and the effect label it counts under. */
const EFFECT_OF_STATUS: Record<string, string> = { allowed: 'allow', denied: 'deny', pending: 'ask' };
const EFFECTS = ['allow', 'deny', 'ask'] as const;
/** Custom (`x-…`) actions count as "other": action names come from agents, labels must stay bounded. */
const ACTIONS = [...ACTION_CATALOGUE, 'other'] as const;

/**
 * Every instrument of the process, in its own registry (prom-client's "Multiple registries":
 * several apps in one test process must not share the global one). The decision path calls
 * `decided` and `committed` only: counters and histograms whose labelled children are made
 * once here, so counting a decision allocates nothing.
 */
export class GatehouseMetrics {
  readonly registry = new Registry();

  private readonly decisions = new Counter({
    name: 'gatehouse_decisions_total',
    help: 'Decisions answered to agents, by effect (allow, deny, ask) and action (catalogue, else other)',
    labelNames: ['effect', 'action'] as const,
    registers: [this.registry],
  });
  /** effect → action → child: the hot path looks up two maps instead of building a label object. */
  private readonly decisionChildren = new Map<string, Map<string, Counter.Internal>>();

  /**
   * The same decisions, per device group named in METRICS_DEVICE_GROUPS (absent when none is):
   * counted once in each listed group the device is in, or once under "other". A device in
   * two listed groups counts in both, so totals come from gatehouse_decisions_total.
   */
  private readonly byDeviceGroup: Counter<'device_group' | 'effect' | 'action'> | null;
  /** device group → effect → action → child, made once like decisionChildren. */
  private readonly byDeviceGroupChildren = new Map<string, Map<string, Map<string, Counter.Internal>>>();
  private readonly listedGroups: readonly string[];

  readonly decisionSeconds = new Histogram({
    name: 'gatehouse_decision_duration_seconds',
    help: 'Time from receiving a decision request to its answer being ready (durably recorded)',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  private readonly commitSeconds = new Histogram({
    name: 'gatehouse_decision_commit_duration_seconds',
    help: 'Duration of one group commit of decisions and their audit records',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  private readonly commitBatch = new Histogram({
    name: 'gatehouse_decision_commit_batch_size',
    help: 'Decisions written by one group commit',
    buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
    registers: [this.registry],
  });
  readonly auditWriteFailures = new Counter({
    name: 'gatehouse_audit_write_failures_total',
    help: 'Decision commits (decisions and their audit records) that failed: those agents were answered 503',
    registers: [this.registry],
  });
  readonly sealerWaits = new Counter({
    name: 'gatehouse_decision_commits_held_total',
    help: 'Decision commits held back because the audit sealer was behind (seal lag past 30 ms, under a third of its 100 ms bound): those decisions waited, and past their deadline were answered 503',
    registers: [this.registry],
  });
  readonly approvalSeconds = new Histogram({
    name: 'gatehouse_approval_duration_seconds',
    help: 'Time from a request asking for approval to the approvers’ decision',
    buckets: [10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400],
    registers: [this.registry],
  });
  private openLongPolls: () => number = () => 0;
  private openEventStreams: () => number = () => 0;
  private readonly longPollsOpen = this.sampled(
    'gatehouse_long_polls_open',
    'Agents waiting in a long poll (GET /api/v1/agent/decisions/{id}?wait) on this replica',
    () => this.openLongPolls(),
  );
  private readonly eventStreamsOpen = this.sampled(
    'gatehouse_event_streams_open',
    'Approvers’ open event streams (SSE) on this replica',
    () => this.openEventStreams(),
  );
  private readonly rateLimitRefusals = new Counter({
    name: 'gatehouse_rate_limit_refusals_total',
    help: 'Requests refused with 429, by limit (address: per source address; device: per device or enrollment token)',
    labelNames: ['limit'] as const,
    registers: [this.registry],
  });
  constructor(options: { tlsCert?: Buffer; deviceGroups?: readonly string[] } = {}) {
    collectDefaultMetrics({ register: this.registry });
    for (const effect of EFFECTS) {
      const byAction = new Map<string, Counter.Internal>();
      for (const action of ACTIONS) byAction.set(action, this.decisions.labels(effect, action));
      this.decisionChildren.set(effect, byAction);
    }
    this.listedGroups = options.deviceGroups ?? [];
    this.byDeviceGroup = this.listedGroups.length > 0 ? this.deviceGroupCounter() : null;
    // Seen as 0 before the first refusal, so rate() and alerts have a series from the start.
    this.rateLimitRefusals.labels('address').inc(0);
    this.rateLimitRefusals.labels('device').inc(0);
    if (options.tlsCert) this.certificateExpiry(options.tlsCert);
  }

  /** One decision answered (status as stored: allowed, denied, pending) for a device in `deviceGroups`. */
  decided(status: string, action: string, seconds: number, deviceGroups: ReadonlySet<string> = new Set()): void {
    const effect = EFFECT_OF_STATUS[status] ?? 'deny';
    const byAction = this.decisionChildren.get(effect)!;
    (byAction.get(action) ?? byAction.get('other')!).inc();
    this.decisionSeconds.observe(seconds);
    if (this.byDeviceGroup) this.countByDeviceGroup(effect, action, deviceGroups);
  }

  /** One group commit of `batchSize` decisions that took `seconds`. */
  committed(batchSize: number, seconds: number): void {
    this.commitBatch.observe(batchSize);
    this.commitSeconds.observe(seconds);
  }

  /** The long polls module (decisions) tells how to count its open polls; read at each scrape. */
  countLongPolls(read: () => number): void {
    this.openLongPolls = read;
  }

  countEventStreams(read: () => number): void {
    this.openEventStreams = read;
  }

  refusedByRateLimit(limit: 'address' | 'device'): void {
    this.rateLimitRefusals.labels(limit).inc();
  }

  private countByDeviceGroup(effect: string, action: string, deviceGroups: ReadonlySet<string>): void {
    const inc = (group: string) => {
      const byAction = this.byDeviceGroupChildren.get(group)!.get(effect)!;
      (byAction.get(action) ?? byAction.get('other')!).inc();
    };
    let listed = false;
    for (const group of this.listedGroups) {
      if (deviceGroups.has(group)) {
        inc(group);
        listed = true;
      }
    }
    if (!listed) inc(OTHER_DEVICE_GROUP);
  }

  private deviceGroupCounter(): Counter<'device_group' | 'effect' | 'action'> {
    const counter = new Counter({
      name: 'gatehouse_decisions_by_device_group_total',
      help: 'Decisions per device group of METRICS_DEVICE_GROUPS (once in each listed group the device is in, else under "other"), by effect and action',
      labelNames: ['device_group', 'effect', 'action'] as const,
      registers: [this.registry],
    });
    // Children made once (their series appear with the first decision), as for gatehouse_decisions_total.
    for (const group of [...this.listedGroups, OTHER_DEVICE_GROUP]) {
      const byEffect = new Map<string, Map<string, Counter.Internal>>();
      for (const effect of EFFECTS) {
        const byAction = new Map<string, Counter.Internal>();
        for (const action of ACTIONS) byAction.set(action, counter.labels(group, effect, action));
        byEffect.set(effect, byAction);
      }
      this.byDeviceGroupChildren.set(group, byEffect);
    }
    return counter;
  }

  /** A gauge read when scraped (prom-client calls `collect` with the gauge as `this`). */
  private sampled(name: string, help: string, read: () => number): Gauge {
    return new Gauge({
      name,
      help,
      registers: [this.registry],
      collect() {
        this.set(read());
      },
    });
  }

  private certificateExpiry(pem: Buffer): void {
    const gauge = new Gauge({
      name: 'gatehouse_tls_certificate_expiry_timestamp_seconds',
      help: 'When the HTTPS certificate (TLS_CERT_FILE) expires, in Unix seconds',
      registers: [this.registry],
    });
    gauge.set(Math.floor(new Date(new X509Certificate(pem).validTo).getTime() / 1000));
  }
}
