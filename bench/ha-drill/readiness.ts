/**
 * Polls every replica's /health/ready (as the load balancer does) and keeps when each was
 * ready, to tell how long after a fault it was serving again.
 */
export class ReadinessWatch {
  private readonly samples = new Map<string, { at: number; ready: boolean }[]>();
  private running = true;
  private readonly loops: Promise<void>[];

  constructor(urls: string[], everyMs = 100) {
    this.loops = urls.map((url) => this.watch(url, everyMs));
  }

  private async watch(url: string, everyMs: number): Promise<void> {
    const samples: { at: number; ready: boolean }[] = [];
    this.samples.set(url, samples);
    while (this.running) {
      let ready = false;
      try {
        const res = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(1_000) });
        await res.text();
        ready = res.status === 200;
      } catch {
        // down, or not answering in time: not ready
      }
      samples.push({ at: Date.now(), ready });
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  }

  /** The first instant at or after `since` when `url` answered ready (undefined: never). */
  readyAfter(url: string, since: number): number | undefined {
    return this.samples.get(url)?.find((s) => s.at >= since && s.ready)?.at;
  }

  /** Whether `url` answered not ready at some point in [from, to]. */
  wentUnready(url: string, from: number, to: number): boolean {
    return (this.samples.get(url) ?? []).some((s) => s.at >= from && s.at <= to && !s.ready);
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }
}
