import type { FastifyInstance } from 'fastify';
import { ApiError, ErrorCode } from './api-error.js';

export const MAX_BODY_BYTES = 64 * 1024;
export const MAX_JSON_DEPTH = 32;

/**
 * Routes that take more than MAX_BODY_BYTES: an agent's batch of offline decisions (at most 500
 * a call, agent-api.md 1.1) is larger than one decision; 2 KiB a decision on average.
 */
export const ROUTE_BODY_LIMITS: Readonly<Record<string, number>> = {
  '/api/v1/agent/offline-decisions': 1024 * 1024,
};

/** Gives the routes of ROUTE_BODY_LIMITS their limit (a route's bodyLimit overrides the parser's). */
export function registerRouteBodyLimits(fastify: FastifyInstance): void {
  fastify.addHook('onRoute', (route) => {
    const limit = ROUTE_BODY_LIMITS[route.url];
    if (limit !== undefined) route.bodyLimit = limit;
  });
}

/** Nesting depth of a JSON text, counted without parsing it (strings are skipped). */
export function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
      if (++depth > max) max = depth;
    } else if (c === 125 || c === 93) depth--;
  }
  return max;
}

const CHECKED = (key: string, value: unknown): unknown => {
  if (key === '__proto__' || key === 'constructor') throw new Error(`forbidden key '${key}'`);
  // A \u escape can make a lone surrogate, which no database text can hold (PostgreSQL
  // refuses it): refused here for every route, before it could fail a commit.
  if (!key.isWellFormed() || (typeof value === 'string' && !value.isWellFormed())) {
    throw new Error(`the text of '${key}' is not well-formed Unicode (a lone surrogate)`);
  }
  return value;
};

/**
 * JSON.parse refusing `__proto__` and `constructor` keys and lone surrogates. A reviver makes
 * JSON.parse several times slower (~3% of the server's CPU on the decision endpoint), so it
 * runs only when the text could hold either: a key spelled out, or anything behind a \u
 * escape (a text without one cannot hold a lone surrogate: the body was decoded from UTF-8).
 */
export function parseWithoutForbiddenKeys(text: string): unknown {
  const suspicious = text.includes('__proto__') || text.includes('constructor') || text.includes('\\u');
  return suspicious ? JSON.parse(text, CHECKED) : JSON.parse(text);
}

/**
 * JSON bodies: at most 64 KiB (413), at most 32 levels deep, no `__proto__` or
 * `constructor` keys and no lone surrogates (400). Replaces Fastify's default JSON parser;
 * other content types (text/plain included) are 415.
 */
export function registerJsonParser(fastify: FastifyInstance): void {
  fastify.removeContentTypeParser('application/json');
  // The API speaks JSON only: a text/plain body is 415, not a string for each route to refuse.
  fastify.removeContentTypeParser('text/plain');
  fastify.addContentTypeParser(
    'application/json',
    { parseAs: 'string', bodyLimit: MAX_BODY_BYTES },
    (_request, body, done) => {
      const text = body as string;
      if (text.length === 0) return done(null, undefined);
      if (jsonDepth(text) > MAX_JSON_DEPTH) {
        return done(
          new ApiError(ErrorCode.InvalidRequest, `JSON nested deeper than ${MAX_JSON_DEPTH} levels`),
          undefined,
        );
      }
      try {
        done(null, parseWithoutForbiddenKeys(text));
      } catch (error) {
        done(new ApiError(ErrorCode.InvalidRequest, `Malformed JSON: ${(error as Error).message}`), undefined);
      }
    },
  );
}
