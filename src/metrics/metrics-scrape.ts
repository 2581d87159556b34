import { createHash, timingSafeEqual } from 'node:crypto';
import type { GatehouseMetrics } from './gatehouse-metrics.js';
import type { StateGauges } from './state-gauges.js';

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * One scrape, whichever port it comes in on (the main one, or METRICS_LISTEN): the token
 * check and the text. Counters and histograms are kept in memory, gauges read now.
 */
export class MetricsScrape {
  private readonly expected: Buffer | null;

  constructor(
    token: string | undefined,
    private readonly metrics: GatehouseMetrics,
    private readonly state: StateGauges,
  ) {
    this.expected = token ? digest(token) : null;
  }

  /** Whether METRICS_TOKEN is set. */
  get tokenSet(): boolean {
    return this.expected !== null;
  }

  /** Whether `token` is METRICS_TOKEN; false while it is unset. */
  tokenMatches(token: string | null): boolean {
    // Digests of equal length, so that the comparison takes the same time whatever was sent.
    return this.expected !== null && timingSafeEqual(digest(token ?? ''), this.expected);
  }

  async read(): Promise<{ contentType: string; body: string }> {
    await this.state.refresh();
    return { contentType: this.metrics.registry.contentType, body: await this.metrics.registry.metrics() };
  }
}
