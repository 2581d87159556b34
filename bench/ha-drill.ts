/**
 * `npm run drill:ha`: three replicas on one fresh PostgreSQL database, a fleet of agents and
 * approvers, one replica killed with SIGKILL and started again, a database outage; prints
 * what was retried, lost (must be 0), done twice (0) and how long recovery took. Exits 1 when
 * anything was lost or done twice. Options (--name=value, or the environment variable):
 * --agents, --approvers, --seconds (the load), --down and --outage (seconds), --unattended.
 */
import { randomBytes } from 'node:crypto';
import { adminQuery, createBenchDatabase } from './bench-server.js';
import { numberOption } from './bench-util.js';
import { launchCompiled } from './ha-drill/compiled-replica.js';
import { runDrill } from './ha-drill/drill.js';
import { DEFAULT_OPTIONS as D, type DrillOptions } from './ha-drill/options.js';
import { drillPassed, drillReport } from './ha-drill/report.js';

const options: DrillOptions = {
  ...D,
  agents: numberOption('agents', 'DRILL_AGENTS', D.agents),
  approvers: numberOption('approvers', 'DRILL_APPROVERS', D.approvers),
  loadMs: numberOption('seconds', 'DRILL_SECONDS', D.loadMs / 1000) * 1000,
  downMs: numberOption('down', 'DRILL_DOWN_SECONDS', D.downMs / 1000) * 1000,
  outageMs: numberOption('outage', 'DRILL_OUTAGE_SECONDS', D.outageMs / 1000) * 1000,
  unattended: numberOption('unattended', 'DRILL_UNATTENDED', D.unattended),
};

const name = `gatehouse_drill_${randomBytes(4).toString('hex')}`;
const databaseUrl = await createBenchDatabase(name);
const t0 = Date.now();
const say = (line: string) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(5)} s] ${line}`);
try {
  say(`HA drill on the fresh database ${name}`);
  const result = await runDrill({ databaseUrl, launch: launchCompiled, options, say });
  console.log('');
  for (const line of drillReport(result)) console.log(line);
  const passed = drillPassed(result);
  console.log(passed ? '\nPASS: nothing lost, nothing done twice' : '\nFAIL: see the lines above');
  process.exitCode = passed ? 0 : 1;
} finally {
  await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
}
