import { createServer, type Server } from 'node:http';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** A numeric option from `--name=value` on the command line, else the environment variable, else the default. */
export function numberOption(flag: string, envName: string, fallback: number): number {
  const prefix = `--${flag}=`;
  const arg = process.argv.find((a) => a.startsWith(prefix));
  const raw = arg ? arg.slice(prefix.length) : process.env[envName];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${flag} / ${envName}: expected a positive number`);
  return value;
}

/** A string option from `--name=value`, else the environment variable, else the default. */
export function stringOption(flag: string, envName: string, fallback: string): string {
  const prefix = `--${flag}=`;
  const arg = process.argv.find((a) => a.startsWith(prefix));
  return (arg ? arg.slice(prefix.length) : process.env[envName]) || fallback;
}

/** Nearest-rank percentile of an ascending-sorted sample. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/** A growable array of doubles (latency samples without boxing). */
export class Samples {
  private data = new Float64Array(1 << 16);
  length = 0;

  push(value: number): void {
    if (this.length === this.data.length) {
      const next = new Float64Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = value;
  }

  sorted(): Float64Array {
    return this.inOrder().sort();
  }

  /** A copy, in the order the samples were taken. */
  inOrder(): Float64Array {
    return this.data.slice(0, this.length);
  }
}

/** Busy and total CPU ticks of the whole machine, from /proc/stat (Linux); undefined elsewhere. */
export function machineCpuTicks(): { busy: number; total: number } | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
    const fields = line.trim().split(/\s+/).slice(1).map(Number);
    const idle = fields[3] + (fields[4] ?? 0);
    const total = fields.reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return undefined;
  }
}

export const fmtInt = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');
export const fmtMs = (n: number, digits = 2): string => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

/** A plain text table: first row is the header, numbers right-aligned. */
export function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]) =>
    r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
  return [line(rows[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

let clockTicks: number | undefined;

/**
 * This process's threads' CPU seconds (utime + stime) and nice values, by thread id
 * (/proc/self/task, Linux): which thread of the process did the work.
 */
export function threadCpuSeconds(): Map<number, { seconds: number; nice: number }> {
  clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  const result = new Map<number, { seconds: number; nice: number }>();
  for (const tid of readdirSync('/proc/self/task')) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    } catch {
      continue; // ended meanwhile
    }
    // After "(comm) " come fields 3 on: utime and stime are 14 and 15, nice is 19.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    result.set(Number(tid), {
      seconds: (Number(fields[11]) + Number(fields[12])) / clockTicks,
      nice: Number(fields[16]),
    });
  }
  return result;
}

/**
 * CPU seconds used so far by each process with this command name (e.g. 'postgres'), by
 * pid, from /proc (Linux); undefined elsewhere.
 */
export function processCpuSeconds(command: string): Map<number, number> | undefined {
  try {
    clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    const result = new Map<number, number>();
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      let stat: string;
      try {
        stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      } catch {
        continue; // exited meanwhile
      }
      const open = stat.indexOf('(');
      const close = stat.lastIndexOf(')');
      if (stat.slice(open + 1, close) !== command) continue;
      const fields = stat.slice(close + 2).split(' ');
      // utime and stime: fields 14 and 15 of /proc/<pid>/stat
      result.set(Number(pid), (Number(fields[11]) + Number(fields[12])) / clockTicks);
    }
    return result;
  } catch {
    return undefined;
  }
}

/**
 * The baseline of the HTTP benches: a bare node:http server that answers a fixed JSON to
 * POST `path`. It parses the body as a framework would, so a ratio to it is framework cost.
 */
export function bareJsonServer(path: string, answer: string): Server {
  return createServer((req, res) => {
    if (req.method !== 'POST' || req.url !== path) {
      res.writeHead(404).end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        res.writeHead(400).end();
        return;
      }
      res.writeHead(200, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(answer),
      });
      res.end(answer);
    });
  });
}

/**
 * Runs a bench's main: the number it returns is the exit code (none: as main set it); a
 * throw is printed and exits 1. `exit`: end the process at once (for benches that leave
 * connections behind that would keep it alive).
 */
export function runBench(main: () => Promise<number | void>, options: { exit?: boolean } = {}): void {
  const finish = (code: number) => (options.exit ? process.exit(code) : void (process.exitCode = code));
  main().then(
    (code) => finish(code ?? Number(process.exitCode ?? 0)),
    (error: unknown) => {
      console.error(error);
      finish(1);
    },
  );
}
