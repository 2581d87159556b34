import type { FastifyRequest } from 'fastify';

/** The console's session cookie: the staff bearer token of the same server-side session as the API. */
export const SESSION_COOKIE = 'gatehouse_session';

/** One cookie's value from the Cookie header, or null (no cookie library needed for one name). */
export function readCookie(request: FastifyRequest, name: string): string | null {
  const header = request.headers.cookie;
  if (typeof header !== 'string') return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim() || null;
  }
  return null;
}

/** The token in the console's cookie, when it has a token's shape. */
export function consoleSessionToken(request: FastifyRequest): string | null {
  const value = readCookie(request, SESSION_COOKIE);
  return value && /^[A-Za-z0-9._-]{1,4096}$/.test(value) ? value : null;
}

/**
 * HttpOnly (no script reads it), SameSite=Strict (no other site's page sends it), Secure
 * whenever the browser reaches Gatehouse over TLS. No Max-Age: the server-side session
 * decides how long it lives, and the cookie dies with the browser.
 */
export function sessionCookie(token: string, secure: boolean): string {
  return `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}

export function clearedSessionCookie(secure: boolean): string {
  return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${secure ? '; Secure' : ''}`;
}
