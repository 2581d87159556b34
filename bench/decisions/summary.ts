/** The Summary table at the end of the run: one line per target, pushed by each part as it measures. */

export type Verdict = 'PASS' | 'FALL SHORT' | 'FAILED' | 'NOT MEASURED';
export interface SummaryLine {
  target: string;
  measured: string;
  verdict: Verdict;
}
export const summary: SummaryLine[] = [];
export const meets = (ok: boolean): Verdict => (ok ? 'PASS' : 'FALL SHORT');
export const holds = (ok: boolean): Verdict => (ok ? 'PASS' : 'FAILED');
