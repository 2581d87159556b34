import type { Failure } from './drill-log.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const RETRYABLE = new Set([502, 503, 504]);

export interface StaffAnswer {
  /** 0: no replica answered in the attempts allowed. */
  status: number;
  body: any;
  failures: Failure[];
}

/**
 * The approvers' client: each call goes to the next replica in turn (a round-robin load
 * balancer), and a refused connection, a reset or a 502/503/504 is tried on the next one.
 */
export class StaffClient {
  private next = 0;

  constructor(
    private readonly urls: string[],
    private readonly attempts = 12,
    private readonly timeoutMs = 5_000,
  ) {}

  async call(method: string, path: string, options: { token?: string; body?: unknown } = {}): Promise<StaffAnswer> {
    const failures: Failure[] = [];
    let pause = 250;
    for (let attempt = 0; attempt < this.attempts; attempt++) {
      if (attempt > 0 && attempt % this.urls.length === 0) {
        await sleep(pause);
        pause = Math.min(pause * 2, 2_000);
      }
      const url = this.urls[this.next++ % this.urls.length];
      let res: Response;
      try {
        res = await fetch(url + path, {
          method,
          headers: {
            ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
            ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          body: options.body === undefined ? undefined : JSON.stringify(options.body),
          signal: AbortSignal.timeout(this.timeoutMs),
        });
      } catch {
        failures.push({ url, at: Date.now() });
        continue;
      }
      const text = await res.text().catch(() => '');
      if (RETRYABLE.has(res.status)) {
        failures.push({ url, at: Date.now(), status: res.status });
        continue;
      }
      let body: unknown = text;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        // not JSON: keep the text
      }
      return { status: res.status, body, failures };
    }
    return { status: 0, body: undefined, failures };
  }

  /** The answer of a call that must succeed with `status`, else an error naming the call. */
  async expect(status: number, method: string, path: string, options: { token?: string; body?: unknown } = {}) {
    const res = await this.call(method, path, options);
    if (res.status !== status) {
      throw new Error(`${method} ${path}: expected HTTP ${status}, got ${res.status} ${JSON.stringify(res.body)}`);
    }
    return res.body;
  }
}
