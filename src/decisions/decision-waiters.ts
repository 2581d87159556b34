/** A long poll's registration: `woken` resolves when the request changes; `cancel` drops it. */
export interface Waiter {
  woken: Promise<void>;
  cancel(): void;
}

/** Long polls waiting for a request to change, woken by whoever changes it in this process. */
export class DecisionWaiters {
  private readonly waiting = new Map<string, Set<() => void>>();

  /**
   * Registers before the caller reads the request, so that a change landing between the
   * read and the wait is not missed.
   */
  register(requestId: string): Waiter {
    let wake!: () => void;
    const woken = new Promise<void>((resolve) => (wake = resolve));
    const set = this.waiting.get(requestId) ?? new Set();
    this.waiting.set(requestId, set);
    const done = () => {
      set.delete(done);
      if (set.size === 0 && this.waiting.get(requestId) === set) this.waiting.delete(requestId);
      wake();
    };
    set.add(done);
    return { woken, cancel: done };
  }

  notify(requestId: string): void {
    for (const done of [...(this.waiting.get(requestId) ?? [])]) done();
  }

  /** Long polls waiting now (metrics). */
  get open(): number {
    let n = 0;
    for (const set of this.waiting.values()) n += set.size;
    return n;
  }

  /** Wakes everyone (shutdown). */
  notifyAll(): void {
    for (const id of [...this.waiting.keys()]) this.notify(id);
  }
}
