/**
 * Policy decisions at scale, in one run:
 * 1. a large policy set generated deterministically (2,000 rules, 100 device groups, 10,000
 *    devices, 5,000 remote users of 50 enterprises), loaded as YAML text through the real
 *    strict loader, then compiled (new PolicyEngine, new DeviceGrouper);
 * 2. PolicyEngine.decide() latency in this process (one core);
 * 3. resident memory after loading, compiling and grouping the 10,000 devices;
 * 4. the real Gatehouse app (dist/src/main.js, PostgreSQL, durable audit) answering
 *    POST /api/v1/agent/decisions under autocannon on loopback, next to a bare Node `http`
 *    server answering a fixed JSON with the same client settings; every answer's audit
 *    record is counted.
 *
 *   npm run bench:decisions [-- --calls=1000000 --seconds=5 --http-seconds=10 --warmup=2
 *                              --connections=64 --http=on|off --in-process=on|off
 *                              --server-profile=off|on]
 *
 * --in-process=off runs only section 4 (quicker comparisons of server changes).
 * Environment: DECISIONS_BENCH_CALLS, DECISIONS_BENCH_SECONDS, DECISIONS_BENCH_HTTP_SECONDS,
 * DECISIONS_BENCH_WARMUP_SECONDS, DECISIONS_BENCH_CONNECTIONS, DECISIONS_BENCH_HTTP,
 * DECISIONS_BENCH_IN_PROCESS, DECISIONS_BENCH_SERVER_PROFILE (on:
 * Gatehouse runs with --cpu-prof and its hottest functions are printed; the profiler slows
 * it), BENCH_DATABASE_URL (an admin
 * URL of the PostgreSQL to use; default postgres://postgres@127.0.0.1:5432/postgres: a scratch
 * database gatehouse_bench_dec_<pid> is created and dropped).
 *
 * Exits 1 on a correctness failure: decide() disagreeing with a full scan of every rule
 * (explain()), a rule failing to evaluate, an HTTP answer that is a 5xx or not an allow,
 * a number of decision audit records other than the number of answers, or a part that
 * could not run.
 */
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { fmtInt, runBench, table } from './bench-util.js';
import { serveBare } from './decisions/bare-server.js';
import { httpPart } from './decisions/http-part.js';
import { inProcess, sunk } from './decisions/in-process.js';
import {
  DEVICES,
  ENTERPRISES,
  GROUPS,
  HTTP,
  HTTP_TARGETS,
  IN_PROCESS,
  RULES,
  SEED,
  USERS_PER_ENTERPRISE,
} from './decisions/options.js';
import { summary } from './decisions/summary.js';

// The parts live in decisions/: options.ts (options, sizes, targets), world.ts (the generated
// policy set, devices, users and requests), in-process.ts (sections 1-3, with latency.ts,
// full-scan-check.ts, timing.ts),
// http-part.ts (section 4, with http-load.ts and bare-server.ts), cpu-profile.ts, summary.ts.

let aborted = false;
process.once('SIGINT', () => {
  aborted = true;
  console.error('Interrupted: finishing the current part and cleaning up');
});

// ---------------------------------------------------------------------------------------

async function main(): Promise<number> {
  console.log(
    `Policy decision benchmark: ${fmtInt(RULES)} rules, ${GROUPS} device groups, ${fmtInt(DEVICES)} devices, ` +
      `${fmtInt(ENTERPRISES * USERS_PER_ENTERPRISE)} remote users (seed ${SEED.toString(16)})`,
  );
  console.log(
    `Machine: ${availableParallelism()} CPUs, Node ${process.version}; load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  let failed = IN_PROCESS === 'on' ? inProcess() : false;
  const httpTargets = Object.values(HTTP_TARGETS);
  if (HTTP === 'off' || aborted) {
    for (const target of httpTargets) {
      summary.push({ target, measured: aborted ? 'interrupted' : '--http=off', verdict: 'NOT MEASURED' });
    }
  } else {
    try {
      failed = (await httpPart(fileURLToPath(import.meta.url))) || failed;
    } catch (error) {
      failed = true;
      console.error(`\n4. HTTP: FAILED: ${(error as Error).message}`);
      for (const target of httpTargets) summary.push({ target, measured: 'failed to run', verdict: 'NOT MEASURED' });
    }
  }

  console.log('\nSummary\n');
  console.log(table([['target', 'measured', 'verdict'], ...summary.map((s) => [s.target, s.measured, s.verdict])]));
  console.log(
    `\n(load average at the end ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}: other work on this machine shares the CPUs with the bench)`,
  );
  if (failed) console.error('\nFAILED: a correctness check failed or a part could not run');
  if (aborted) console.error('\nInterrupted: results are incomplete');
  if (sunk() === -1) console.log(''); // the sink is read, so no timed call is dead code
  return failed || aborted ? 1 : 0;
}

if (process.argv.includes('--serve-bare')) {
  serveBare();
} else {
  runBench(main);
}
