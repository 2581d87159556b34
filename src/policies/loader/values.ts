/** Small helpers shared by the steps of loading policy files. */
import type { PolicyProblem } from '../policy.types.js';

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Order by UTF-16 code unit, not locale: load order and versions must not depend on the machine. */
export function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Problems by file, then line, keeping the order found within a line. */
export function sortProblems(problems: PolicyProblem[]): PolicyProblem[] {
  return problems
    .map((p, k) => ({ p, k }))
    .sort((x, y) => compareCodeUnits(x.p.file, y.p.file) || x.p.line - y.p.line || x.k - y.k)
    .map(({ p }) => p);
}

/** Calls `f` for each mapping of a list (other items are reported by the schema). */
export function forEachRecord(list: unknown, f: (item: Record<string, unknown>, index: number) => void): void {
  if (!Array.isArray(list)) return;
  list.forEach((item, k) => {
    if (isRecord(item)) f(item, k);
  });
}

/** Whether an approval block names approvers (if wrongly, that is reported on its own). */
export function hasApprovers(approval: unknown): boolean {
  return isRecord(approval) && approval.approvers !== undefined;
}
