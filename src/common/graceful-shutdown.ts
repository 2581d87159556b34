import type { FastifyInstance } from 'fastify';

const SHUTTING_DOWN = {
  error: { code: 'unavailable', message: 'Gatehouse is shutting down; retry on another replica', details: [] },
};

/**
 * Graceful shutdown in two steps. On SIGTERM Gatehouse first drains: it keeps listening, and
 * every new request gets 503 at once (an agent then does not act, and retries elsewhere),
 * with `Connection: close` so that keep-alive clients let go; the requests already in flight
 * finish. Only when they are done (or half the grace time has passed: a long poll or an event
 * stream may never be done) does it close, and the listening socket with it. Closing at once
 * would refuse new connections instead, which clients and load balancers read as a crash.
 */
export class GracefulShutdown {
  private closing = false;
  private inFlight = 0;
  private whenIdle?: () => void;

  constructor(fastify: FastifyInstance) {
    // Nest's close() (tests, or after the drain) closes at once: new requests get 503 there too.
    fastify.addHook('preClose', (done) => {
      this.closing = true;
      done();
    });
    fastify.addHook('onSend', (_request, reply, payload, done) => {
      if (this.closing) void reply.header('connection', 'close');
      done(null, payload);
    });
  }

  /** In the onRequest hook: false when the request was answered 503 (shutting down). */
  admit(reply: import('fastify').FastifyReply): boolean {
    if (this.closing) {
      void reply.status(503).send(SHUTTING_DOWN);
      return false;
    }
    this.inFlight++;
    reply.raw.once('close', () => {
      if (--this.inFlight === 0) this.whenIdle?.();
    });
    return true;
  }

  /** Requests being answered now (event streams and long polls included). */
  get requestsInFlight(): number {
    return this.inFlight;
  }

  /** Starts answering 503; resolves when no request is in flight, or after `maxMs`. */
  drain(maxMs: number): Promise<void> {
    this.closing = true;
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, maxMs);
      this.whenIdle = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
