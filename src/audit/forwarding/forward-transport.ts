import type { WireItem } from './forward-item.js';

/**
 * A connection to one receiver. `send` resolves once the items are handed over: for HTTPS when
 * the receiver answered 2xx; for TCP and TLS when the bytes are in the kernel's send buffer,
 * which a receiver that goes away may still lose. So a stream transport counts its
 * connections (`epoch` grows with each one lost), and the forwarder confirms a batch only
 * after it was written `settleMs` earlier on a connection that is still up; items written on a
 * lost connection are sent again (at least once, never a gap).
 */
export interface ForwardTransport {
  readonly epoch: number;
  readonly settleMs: number;
  /** Set by the transport thread: called when `epoch` grows (a stream transport's connection ended). */
  onEpochChange?: (epoch: number) => void;
  send(items: WireItem[]): Promise<void>;
  /** Drops the connection at once (shutdown: a hung write must not hold it up). */
  close(): void;
}

/** How long a connection or a write may take before the receiver counts as failing. */
export const CONNECT_TIMEOUT_MS = 5_000;
export const WRITE_TIMEOUT_MS = 10_000;

/** Rejects with `what` if `promise` has not settled within `ms`, after running `onTimeout`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string, onTimeout: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout();
      reject(new Error(`${what} timed out after ${ms} ms`));
    }, ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
