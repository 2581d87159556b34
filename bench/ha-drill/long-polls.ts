/** Agents waiting in a long poll on one replica, from its /metrics (gatehouse_long_polls_open). */
export async function openLongPolls(baseUrl: string, metricsToken: string): Promise<number> {
  const res = await fetch(`${baseUrl}/metrics`, {
    headers: { authorization: `Bearer ${metricsToken}` },
    signal: AbortSignal.timeout(2_000),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${baseUrl}/metrics answered HTTP ${res.status}`);
  const line = text.split('\n').find((l) => l.startsWith('gatehouse_long_polls_open'));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

/**
 * Waits (at most `timeoutMs`) until an agent is long polling on `baseUrl`, so that the kill
 * cuts a waiting agent as well as the decisions in flight. Returns how many were open.
 */
export async function untilLongPollOpen(baseUrl: string, metricsToken: string, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await openLongPolls(baseUrl, metricsToken).catch(() => 0);
    if (open > 0 || Date.now() >= deadline) return open;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
