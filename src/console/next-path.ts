/**
 * Where to go after signing in: only a path on this site. `//evil.example`, `/\evil`,
 * schemes, control characters and anything long are refused (an open redirect would let
 * a phishing link use Gatehouse's own sign-in page).
 */
export function safeNextPath(value: unknown): string | null {
  if (typeof value !== 'string' || value.length === 0 || value.length > 512) return null;
  if (!value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) return null;
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x20 || code === 0x7f || code === 0x5c /* \ */) return null;
  }
  // The sign-in pages themselves would loop.
  if (/^\/(sign-in|sign-out|setup)(\/|\?|$)/.test(value)) return null;
  return value;
}

export function signInPath(next: string | null): string {
  return next && next !== '/' ? `/sign-in?next=${encodeURIComponent(next)}` : '/sign-in';
}
