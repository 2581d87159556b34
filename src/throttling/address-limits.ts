import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import type { AppConfig } from '../config/config.schema.js';

/** Probes must keep working from the load balancer's address whatever else it forwards. */
const UNLIMITED_PREFIXES = ['/health/'];

/**
 * Unauthenticated and failed calls per source address, on every route: each answer 401
 * (a wrong device credential, enrollment token, password or unknown user name, a missing or
 * expired staff token) uses up one of ADDRESS_FAILURE_LIMIT per ADDRESS_FAILURE_WINDOW_SECONDS;
 * once they are used up, every call from that address gets 429 until the window ends, before
 * any credential is checked (no argon2, no database). Successful calls cost nothing, so a
 * busy address of good callers is never limited by its own traffic.
 *
 * The address is Fastify's `request.ip`: the socket's peer, or the client named in
 * X-Forwarded-For only with TRUST_PROXY (otherwise anyone could pick their own key).
 * IPv6 addresses count per /56 (the library's default), as one subscriber gets a whole prefix.
 * The counts are @fastify/rate-limit's in-memory store (an LRU): per replica.
 */
export async function registerAddressLimits(
  fastify: FastifyInstance,
  config: AppConfig,
  onRefused: () => void = () => {},
): Promise<void> {
  // Routes opt in explicitly (createRateLimit): no limit on every route by default.
  await fastify.register(rateLimit, { global: false, cache: 100_000 });
  const failures = fastify.createRateLimit({
    max: config.ADDRESS_FAILURE_LIMIT,
    timeWindow: config.ADDRESS_FAILURE_WINDOW_SECONDS * 1000,
  });
  fastify.addHook('onRequest', async (request, reply) => {
    if (UNLIMITED_PREFIXES.some((prefix) => request.url.startsWith(prefix))) return;
    const status = await failures(request, { increment: false });
    if (status.isAllowed || status.remaining > 0) return;
    const retryAfter = Math.max(1, status.ttlInSeconds);
    onRefused();
    // An async hook that answers must return the reply, or Fastify goes on to the route.
    return reply
      .status(429)
      .header('retry-after', String(retryAfter))
      .send({
        error: {
          code: 'rate_limited',
          message: `Too many failed or unauthenticated calls from this address: retry in ${retryAfter} second(s)`,
          details: [],
        },
      });
  });
  fastify.addHook('onResponse', async (request, reply) => {
    if (reply.statusCode === 401) await failures(request);
  });
}
