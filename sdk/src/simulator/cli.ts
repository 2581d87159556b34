#!/usr/bin/env node
/**
 * gatehouse-agent-sim: a fleet of simulated devices against a Gatehouse, to try it and watch
 * the console. Usage:
 *   gatehouse-agent-sim --url http://localhost:8080 --token <enrollment token> [--devices 200]
 *     [--seconds 60] [--think-ms 2000] [--prefix sim-]
 * --url may be repeated (replicas). The enrollment token needs --devices uses.
 */
import { parseArgs } from 'node:util';
import { runFleet } from './fleet.js';

const USAGE =
  'usage: gatehouse-agent-sim --url URL [--url URL2] --token ENROLLMENT_TOKEN [--devices 200] [--seconds 60] [--think-ms 2000] [--prefix sim-] [--verbose]';

function positive(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`--${name}: expected a whole number of at least 1 (got '${value}')\n${USAGE}`);
    process.exit(2);
  }
  return n;
}

let args;
try {
  args = parseArgs({
    options: {
      url: { type: 'string', multiple: true },
      token: { type: 'string', default: process.env.GATEHOUSE_ENROLLMENT_TOKEN },
      devices: { type: 'string', default: '200' },
      seconds: { type: 'string', default: '60' },
      'think-ms': { type: 'string', default: '2000' },
      prefix: { type: 'string', default: 'sim-' },
      verbose: { type: 'boolean', default: false },
    },
  }).values;
} catch (error) {
  console.error(`${(error as Error).message}\n${USAGE}`);
  process.exit(2);
}
if (!args.url?.length || !args.token) {
  console.error(`--url and --token (or GATEHOUSE_ENROLLMENT_TOKEN) are required\n${USAGE}`);
  process.exit(2);
}
const counts = await runFleet({
  urls: args.url,
  enrollmentToken: args.token,
  devices: positive('devices', args.devices),
  durationMs: positive('seconds', args.seconds) * 1000,
  thinkMs: positive('think-ms', args['think-ms']),
  prefix: args.prefix,
  log: args.verbose ? (line) => console.log(line) : undefined,
});
console.log(JSON.stringify(counts));
process.exitCode = counts.enrolled === 0 ? 1 : 0;
