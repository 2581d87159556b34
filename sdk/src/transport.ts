import type { ErrorBody } from './api-types.js';

/** Gatehouse answered with an error that a retry would not change (4xx but 408/429). */
export class GatehouseError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: unknown[] = [],
  ) {
    super(`${status} ${code}: ${message}`);
    this.name = 'GatehouseError';
  }
}

/** No Gatehouse URL gave an answer in the attempts allowed: the agent does not act (agent-api.md). */
export class GatehouseUnreachable extends Error {
  constructor(
    readonly attempts: number,
    readonly lastProblem: string,
  ) {
    super(`Gatehouse could not be reached (${attempts} attempts; last: ${lastProblem})`);
    this.name = 'GatehouseUnreachable';
  }
}

export interface TransportOptions {
  /** Every replica's base URL (e.g. https://gatehouse-a.hospital.example): a failing one is skipped. */
  urls: string[];
  /** Time-out of one attempt (default 10 s). A long poll adds its wait to it. */
  timeoutMs?: number;
  /** Attempts of one call over all URLs (default 2 per URL, at least 3). */
  attempts?: number;
  /** First pause between rounds over the URLs; doubles (default 250 ms, at most 5 s). */
  backoffMs?: number;
  /**
   * Told of each attempt that failed (refused, reset, timed out, or a retryable status), before
   * the next one: for the agent's log and metrics (which replica failed, how often). Must not throw.
   */
  onAttemptFailed?: (failure: AttemptFailure) => void;
}

/** One failed attempt of a call, as `onAttemptFailed` is told of it. */
export interface AttemptFailure {
  method: string;
  path: string;
  /** The replica's base URL. */
  url: string;
  /** 0 for the first attempt of the call. */
  attempt: number;
  /** The status, when the replica answered one (else it gave no answer). */
  status?: number;
  problem: string;
}

// Statuses after which the same call may succeed: time-outs, overload, a replica going away.
const RETRYABLE = new Set([408, 429, 500, 502, 503, 504]);
const MAX_BACKOFF_MS = 5_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * JSON over HTTP to a set of Gatehouse replicas. Every call the SDK retries is idempotent
 * (a decision by its requestId, reads, heartbeats), so a time-out or a dead replica is
 * retried, on the next URL, with the very same body.
 */
export class Transport {
  private readonly urls: string[];
  private preferred = 0;
  readonly timeoutMs: number;
  private readonly attempts: number;
  private readonly backoffMs: number;
  private readonly onAttemptFailed?: TransportOptions['onAttemptFailed'];

  constructor(options: TransportOptions) {
    if (options.urls.length === 0) throw new TypeError('at least one Gatehouse URL is needed');
    this.urls = options.urls.map((u) => u.replace(/\/+$/, ''));
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.attempts = options.attempts ?? Math.max(3, 2 * this.urls.length);
    this.backoffMs = options.backoffMs ?? 250;
    this.onAttemptFailed = options.onAttemptFailed;
  }

  async call<T>(
    method: string,
    path: string,
    options: { token: string; body?: unknown; extraTimeoutMs?: number },
  ): Promise<T> {
    let lastProblem = 'none';
    let pause = this.backoffMs;
    for (let attempt = 0; attempt < this.attempts; attempt++) {
      const index = (this.preferred + attempt) % this.urls.length;
      // A pause after each full round over the URLs, not between replicas.
      if (attempt > 0 && index === this.preferred) {
        await sleep(pause);
        pause = Math.min(pause * 2, MAX_BACKOFF_MS);
      }
      let res: Response;
      try {
        res = await fetch(this.urls[index] + path, {
          method,
          headers: {
            authorization: `Bearer ${options.token}`,
            ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          body: options.body === undefined ? undefined : JSON.stringify(options.body),
          signal: AbortSignal.timeout(this.timeoutMs + (options.extraTimeoutMs ?? 0)),
        });
      } catch (error) {
        // fetch's own message is "fetch failed": the cause says what (refused, reset, time-out).
        const cause = (error as Error & { cause?: Error }).cause;
        lastProblem = `${this.urls[index]}: ${(error as Error).message}${cause ? ` (${cause.message})` : ''}`;
        this.onAttemptFailed?.({ method, path, url: this.urls[index], attempt, problem: lastProblem });
        continue;
      }
      const text = await res.text().catch(() => '');
      if (res.ok) {
        this.preferred = index;
        return (text ? JSON.parse(text) : undefined) as T;
      }
      const error = parseError(text);
      if (RETRYABLE.has(res.status)) {
        lastProblem = `${this.urls[index]}: ${res.status} ${error?.error.code ?? ''}`.trim();
        this.onAttemptFailed?.({
          method,
          path,
          url: this.urls[index],
          attempt,
          status: res.status,
          problem: lastProblem,
        });
        const retryAfter = Number(res.headers.get('retry-after'));
        if (res.status === 429 && retryAfter > 0) await sleep(Math.min(retryAfter * 1000, MAX_BACKOFF_MS));
        continue;
      }
      throw new GatehouseError(
        res.status,
        error?.error.code ?? 'unknown',
        error?.error.message ?? text.slice(0, 200),
        error?.error.details,
      );
    }
    throw new GatehouseUnreachable(this.attempts, lastProblem);
  }
}

function parseError(text: string): ErrorBody | undefined {
  try {
    const body = JSON.parse(text) as ErrorBody;
    return typeof body?.error?.code === 'string' ? body : undefined;
  } catch {
    return undefined;
  }
}
