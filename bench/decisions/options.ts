/** The decisions bench's options (command line, then environment), sizes and targets. */
import { numberOption, stringOption } from '../bench-util.js';

export const CALLS = numberOption('calls', 'DECISIONS_BENCH_CALLS', 1_000_000);
export const SECONDS = numberOption('seconds', 'DECISIONS_BENCH_SECONDS', 5);
export const HTTP_SECONDS = numberOption('http-seconds', 'DECISIONS_BENCH_HTTP_SECONDS', 10);
export const WARMUP_SECONDS = numberOption('warmup', 'DECISIONS_BENCH_WARMUP_SECONDS', 2);
export const CONNECTIONS = numberOption('connections', 'DECISIONS_BENCH_CONNECTIONS', 64);
export const HTTP = stringOption('http', 'DECISIONS_BENCH_HTTP', 'on');
/** off: only the HTTP part (section 4), for quicker comparisons of server changes. */
export const IN_PROCESS = stringOption('in-process', 'DECISIONS_BENCH_IN_PROCESS', 'on');
export const SERVER_PROFILE = stringOption('server-profile', 'DECISIONS_BENCH_SERVER_PROFILE', 'off');
if (!Number.isInteger(CONNECTIONS) || CONNECTIONS > 1024) throw new Error('--connections: a whole number 1-1024');
if (HTTP !== 'on' && HTTP !== 'off') throw new Error('--http: on or off');
if (IN_PROCESS !== 'on' && IN_PROCESS !== 'off') throw new Error('--in-process: on or off');
if (SERVER_PROFILE !== 'on' && SERVER_PROFILE !== 'off') throw new Error('--server-profile: on or off');

export const SEED = 0x6a7e4005;
export const RULES = 2000;
export const RULES_PER_FILE = 100;
export const GROUPS = 100;
export const DEVICES = 10_000;
export const ENTERPRISES = 50;
export const USERS_PER_ENTERPRISE = 100;
export const MODELS = 100;
export const SITES = 20;
export const ZONES = ['Europe/Paris', 'America/Denver', 'Australia/Lord_Howe', 'Asia/Kathmandu', 'UTC'];
export const YEAR_START = Date.UTC(2026, 0, 1);
export const DAY_MS = 86_400_000;
export const YEAR_MS = 365 * DAY_MS;
/** Three poll intervals of 30 s, as DecisionsService passes it. */
export const STATE_MAX_AGE_MS = 90_000;
/** Distinct pre-generated inputs; the timed loops cycle through them. */
export const INPUT_POOL = 100_000;
/** Calls timed one by one right after compiling. */
export const FIRST_CALLS = 1000;
/** The instant the engine is compiled at, for the first calls after compiling: 2026-06-15 09:00 UTC. */
export const FIRST_CLOCK = Date.UTC(2026, 5, 15, 9, 0);
/** Inputs whose decisions are checked against a full scan of every rule. */
export const CHECK_SAMPLE = 20_000;

export const TARGET_COMPILE_MS = 1000;
/** The target (issue 11, item 12): p99 under 20 µs per decision with 2,000 rules. */
export const TARGET_P99_NS = 20_000;
export const TARGET_FIRST_MS = 1;
export const TARGET_RSS_MB = 300;
/** Issue 16's targets (they replace the earlier 0.3x and 10 ms): audited decisions over HTTP on PostgreSQL. */
export const TARGET_HTTP_RATIO = 0.4;
export const TARGET_HTTP_P99_MS = 15;
export const HTTP_TARGETS = {
  ratio: `HTTP req/s ≥ ${TARGET_HTTP_RATIO} x bare node:http`,
  p99: `HTTP p99 < ${TARGET_HTTP_P99_MS} ms at ${CONNECTIONS} connections`,
  answers: 'HTTP: no 5xx, every 2xx answer an allow',
  audit: 'decision audit records = answers',
};
