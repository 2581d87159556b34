/** Long polls waiting for a request to change, woken by whoever changes it in this process. */
export class DecisionWaiters {
  private readonly waiting = new Map<string, Set<() => void>>();

  /** Resolves when notified, or after `ms`. */
  wait(requestId: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const set = this.waiting.get(requestId) ?? new Set();
      this.waiting.set(requestId, set);
      const done = () => {
        clearTimeout(timer);
        set.delete(done);
        if (set.size === 0) this.waiting.delete(requestId);
        resolve();
      };
      const timer = setTimeout(done, ms);
      set.add(done);
    });
  }

  notify(requestId: string): void {
    for (const done of [...(this.waiting.get(requestId) ?? [])]) done();
  }

  /** Wakes everyone (shutdown). */
  notifyAll(): void {
    for (const id of [...this.waiting.keys()]) this.notify(id);
  }
}
