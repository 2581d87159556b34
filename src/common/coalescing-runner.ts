/**
 * Runs a background round at most once at a time: a call while a round runs asks for one
 * more round after it (however many calls came), and every caller gets a promise for the
 * round that covers its call. After stop(), nothing new starts. With `gapMs`, a round asked
 * for while one ran starts that long after it ended (for rounds that each cost a commit).
 */
export class CoalescingRunner {
  private running?: Promise<void>;
  private again = false;
  private stopped = false;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly round: () => Promise<void>,
    private readonly onError: (error: Error) => void,
    private readonly gapMs = 0,
  ) {}

  run(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      let first = true;
      do {
        if (!first && this.gapMs > 0) await new Promise((r) => setTimeout(r, this.gapMs));
        first = false;
        this.again = false;
        try {
          await this.round();
        } catch (error) {
          this.onError(error as Error);
        }
      } while (this.again && !this.stopped);
    })().finally(() => (this.running = undefined));
    return this.running;
  }

  /** Also runs a round every `ms` (the timer does not keep the process alive). */
  every(ms: number): void {
    clearInterval(this.timer);
    this.timer = setInterval(() => void this.run(), ms);
    this.timer.unref();
  }

  /** Stops the timer and starting rounds; resolves when the current one has finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
  }

  get isStopped(): boolean {
    return this.stopped;
  }
}
