/** V8 CPU profiles, of this process or of the Gatehouse child, summarised as tables. */
import { Session, type Profiler } from 'node:inspector/promises';
import { basename, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmtInt, table } from '../bench-util.js';

/** Repository root: this file runs as dist/bench/decisions/cpu-profile.js. */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** Where a profiled function lives: package and file for dependencies, else the path under the repository. */
function where(url: string, line: number): string {
  if (!url) return '';
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  const dep = path.lastIndexOf('/node_modules/');
  if (dep >= 0) {
    const parts = path.slice(dep + '/node_modules/'.length).split('/');
    const name = parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
    return ` ${name}/…/${basename(path)}:${line}`;
  }
  return ` ${path.startsWith(ROOT) ? path.slice(ROOT.length + 1) : path}:${line}`;
}

/** What a profiled function belongs to: a dependency, a folder of src/, Node's internals, or V8's own. */
function area(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  if (path.startsWith('node:')) return 'node: internals';
  const dep = path.lastIndexOf('/node_modules/');
  if (dep >= 0) {
    const parts = path.slice(dep + '/node_modules/'.length).split('/');
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  const own = path.startsWith(ROOT) ? path.slice(ROOT.length + 1) : path;
  return own.split('/').slice(0, 3).join('/');
}

/**
 * Self time by function (top `n`) and, for the three hottest, by line (of the compiled .js);
 * with `byArea`, also by dependency / folder of src/.
 */
export function summarizeProfile(profile: Profiler.Profile, n: number, window?: [number, number]): string {
  // Within a window (µs of the monotonic clock, as process.hrtime), count the samples taken in it.
  let inWindow: Map<number, number> | undefined;
  if (window && profile.samples && profile.timeDeltas) {
    inWindow = new Map();
    let t = profile.startTime;
    profile.samples.forEach((id, i) => {
      t += profile.timeDeltas![i];
      if (t >= window[0] && t <= window[1]) inWindow!.set(id, (inWindow!.get(id) ?? 0) + 1);
    });
  }
  const byArea = window !== undefined;
  const byFunction = new Map<string, number>();
  const areas = new Map<string, number>();
  const byLine = new Map<string, Map<number, number>>();
  let total = 0;
  for (const node of profile.nodes) {
    const hits = inWindow ? (inWindow.get(node.id) ?? 0) : (node.hitCount ?? 0);
    if (hits === 0) continue;
    const f = node.callFrame;
    const key = `${f.functionName || '(anonymous)'}${where(f.url, f.lineNumber + 1)}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + hits);
    const a = area(f.url, f.functionName);
    areas.set(a, (areas.get(a) ?? 0) + hits);
    total += hits;
    const lines = byLine.get(key) ?? new Map<number, number>();
    // Line ticks cover the whole profile: left out within a window.
    if (!inWindow) for (const t of node.positionTicks ?? []) lines.set(t.line, (lines.get(t.line) ?? 0) + t.ticks);
    byLine.set(key, lines);
  }
  const top = [...byFunction.entries()].sort((a, b) => b[1] - a[1]).slice(0, n);
  const share = (k: number) => `${((k / total) * 100).toFixed(1)}%`;
  const out = [table([['function (self time)', 'samples', 'share'], ...top.map(([k, c]) => [k, fmtInt(c), share(c)])])];
  for (const [key] of top.slice(0, 3)) {
    const lines = [...(byLine.get(key)?.entries() ?? [])].sort((a, b) => b[1] - a[1]).slice(0, 6);
    if (lines.length === 0) continue;
    out.push(`  ${key}, hottest lines: ${lines.map(([l, c]) => `${l} (${share(c)})`).join(', ')}`);
  }
  if (byArea) {
    const topAreas = [...areas.entries()].sort((a, b) => b[1] - a[1]).slice(0, n);
    out.push(
      '',
      table([['self time by area', 'samples', 'share'], ...topAreas.map(([k, c]) => [k, fmtInt(c), share(c)])]),
    );
  }
  return out.join('\n');
}

/** A V8 CPU profile of `run` in this process (sampling every 100 µs), summarised. */
export async function cpuProfile(run: () => void): Promise<string> {
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 100 });
    await session.post('Profiler.start');
    run();
    const { profile } = await session.post('Profiler.stop');
    return summarizeProfile(profile, 12);
  } finally {
    session.disconnect();
  }
}
