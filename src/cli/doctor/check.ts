/** What one doctor check found. `skipped`: not configured, or not checkable here (never a failure). */
export type CheckStatus = 'ok' | 'warning' | 'FAILED' | 'skipped';

export interface CheckResult {
  status: CheckStatus;
  /** The check's name as the admin reads it: "TLS certificate". */
  title: string;
  /** What was found, naming the setting (environment variable) it concerns. */
  detail: string;
  /** What to do, when the status is not ok. */
  fix?: string;
}

export const ok = (title: string, detail: string): CheckResult => ({ status: 'ok', title, detail });
export const warning = (title: string, detail: string, fix: string): CheckResult => ({
  status: 'warning',
  title,
  detail,
  fix,
});
export const failed = (title: string, detail: string, fix: string): CheckResult => ({
  status: 'FAILED',
  title,
  detail,
  fix,
});
export const skipped = (title: string, detail: string): CheckResult => ({ status: 'skipped', title, detail });

/** An error's message without its stack, for one line of output. */
export const reason = (error: unknown): string => {
  // Not `instanceof Error`: errors from another realm (a VM context, a test runner) are not.
  const message = (error as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' ? message : String(error);
};

/**
 * Runs a check that reaches out (network, files) so that a hang or a throw becomes a FAILED
 * line naming the check, never a doctor that stops half-way.
 */
export async function guarded(
  title: string,
  fix: string,
  timeoutMs: number,
  check: () => Promise<CheckResult | CheckResult[]>,
): Promise<CheckResult[]> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs);
  });
  try {
    const result = await Promise.race([check(), timeout]);
    return Array.isArray(result) ? result : [result];
  } catch (error) {
    return [failed(title, reason(error), fix)];
  } finally {
    clearTimeout(timer);
  }
}
