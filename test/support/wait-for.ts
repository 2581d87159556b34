/**
 * Waits for a condition (the event a test needs), checking it every few milliseconds, and
 * fails naming it after `timeoutMs`. The bound is generous on purpose: it only decides how
 * long a broken run takes to fail, while a fixed sleep or a tight bound flakes on a busy
 * 2-core machine.
 */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
