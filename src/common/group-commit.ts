interface Pending<T, R> {
  item: T;
  resolve: (result: R) => void;
  reject: (error: Error) => void;
  /** Set when the caller's deadline passed: it was already answered with a failure. */
  expired: boolean;
  timer?: NodeJS.Timeout;
}

/**
 * Back-pressure on sending commits (the decisions' audit records: SealLagGate): a commit is sent
 * only while `ready()`; else it waits for `changed()` and looks again.
 */
export interface Admission {
  ready(): boolean;
  changed(): Promise<void>;
}

/** Resolves or rejects the callers of one committed (or failed) batch. */
type Settle = () => void;

export interface GroupCommitLimits {
  /** Items in a single commit. */
  maxBatch?: number;
  /** Items waiting for a commit; past it a new item fails at once (the database is not keeping up). */
  maxQueued?: number;
  /**
   * How long a caller waits for its commit (0: for ever). Past it the caller's promise
   * rejects; an item not yet sent is dropped (never committed); an item already in the
   * commit in flight may still land later (`onLateCommit` hears of it).
   */
  deadlineMs?: number;
  onLateCommit?: (lateItems: number) => void;
  /**
   * Commits in flight at once (default 1). More only helps when commits do not serialize in
   * the database: the audit chain's appends do (its lock), decisions' inbox writes do not.
   */
  parallel?: number;
  /**
   * When given, a commit waits for it before it is sent. The items keep their deadlines while
   * they wait, and one past it is dropped unsent (its caller was refused), so the wait is
   * bounded by the callers' deadlines and nothing refused is written.
   */
  admission?: Admission;
  /** A commit had to wait for `admission` (metrics, once per commit held back). */
  onAdmissionWait?: () => void;
}

/**
 * Group commit: items submitted while a commit is in flight are written together in the
 * next one, so many concurrent callers share a few durable commits. A caller's promise
 * resolves only after its item is committed, and rejects when the commit fails or its
 * deadline passes. One commit is in flight at a time unless `parallel` allows more (audit
 * appends: one, a second would only queue on the chain's lock; decisions: a few, see
 * DecisionWriter).
 */
export class GroupCommitter<T, R> {
  private queue: Pending<T, R>[] = [];
  private inFlight = 0;
  private scheduled = false;
  private closed = false;
  private readonly maxBatch: number;
  private readonly maxQueued: number;
  private readonly deadlineMs: number;
  private readonly parallel: number;

  constructor(
    private readonly commitBatch: (items: T[]) => Promise<R[]>,
    private readonly failure: (error: Error) => Error,
    private readonly limits: GroupCommitLimits = {},
  ) {
    this.maxBatch = limits.maxBatch ?? 1000;
    this.maxQueued = limits.maxQueued ?? 10_000;
    this.deadlineMs = limits.deadlineMs ?? 0;
    this.parallel = limits.parallel ?? 1;
  }

  submit(item: T): Promise<R> {
    if (this.closed) return Promise.reject(this.failure(new Error('closed for shutdown')));
    if (this.queue.length >= this.maxQueued) {
      return Promise.reject(this.failure(new Error(`${this.queue.length} items already wait for the database`)));
    }
    return new Promise<R>((resolve, reject) => {
      const pending: Pending<T, R> = { item, resolve, reject, expired: false };
      if (this.deadlineMs > 0) pending.timer = setTimeout(() => this.expire(pending), this.deadlineMs);
      this.queue.push(pending);
      this.schedule();
    });
  }

  /** Waits for everything queued so far, then refuses new items. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.inFlight > 0 || this.queue.length > 0) await new Promise((r) => setTimeout(r, 5));
  }

  private expire(pending: Pending<T, R>): void {
    pending.expired = true;
    // Not sent yet: it never will be, so a late commit cannot record what the caller was refused.
    const index = this.queue.indexOf(pending);
    if (index >= 0) this.queue.splice(index, 1);
    pending.reject(this.failure(new Error(`no commit within ${this.deadlineMs} ms`)));
  }

  /**
   * Starts commits after callers whose items just committed (and requests already received)
   * queued their next items, so they join one commit instead of forming a second, alternating
   * half-size batch (measured: average batch 32 -> 64 at 64 writers).
   */
  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.parallel || this.queue.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      // What waits goes in one commit (splitting a burst over the free slots measured slower:
      // more commits, more CPU per item on these shared cores); the other slots take what
      // arrives while it is in flight.
      while (this.queue.length > 0 && this.inFlight < this.parallel) this.start();
    });
  }

  private start(): void {
    this.inFlight++;
    void this.commitNext().then((settle) => {
      this.inFlight--;
      // Items that queued during that commit have waited a whole commit already: send
      // them before answering its callers, so the database works while the answers are
      // written (bench:decisions: the next commit used to start only after all of them).
      if (this.queue.length > 0) this.start();
      settle();
      this.schedule();
    });
  }

  /** Waits (the items still queued, under their deadlines) until `admission` lets a commit go, or nothing is left. */
  private async admitted(): Promise<void> {
    const admission = this.limits.admission;
    if (!admission || admission.ready()) return;
    this.limits.onAdmissionWait?.();
    while (!admission.ready() && this.queue.length > 0) await admission.changed();
  }

  /** Starts committing the queue's head; never rejects (a failure rejects its callers). */
  private async commitNext(): Promise<Settle> {
    await this.admitted();
    const batch = this.queue.splice(0, this.maxBatch);
    // Everything that waited for admission expired meanwhile, or another commit took it.
    if (batch.length === 0) return () => undefined;
    let outcome: (p: Pending<T, R>, i: number) => void;
    try {
      const results = await this.commitBatch(batch.map((p) => p.item));
      outcome = (p, i) => p.resolve(results[i]);
      const late = batch.filter((p) => p.expired).length;
      if (late > 0) this.limits.onLateCommit?.(late);
    } catch (error) {
      const failure = this.failure(error as Error);
      outcome = (p) => p.reject(failure);
    }
    return () =>
      batch.forEach((p, i) => {
        clearTimeout(p.timer);
        if (!p.expired) outcome(p, i);
      });
  }
}
