import { GatehouseAgent, type AgentRequest } from '../agent.js';
import { GatehouseError, GatehouseUnreachable } from '../transport.js';

/** The devices a hospital has and what their vendors ask to do (the example policies' names). */
const MODELS = [
  { prefix: 'ct', model: 'SOMATOM X.cite', actions: ['remote-session', 'log-upload', 'software-install', 'restart'] },
  { prefix: 'mri', model: 'MAGNETOM Vida', actions: ['remote-session', 'file-download', 'config-change'] },
  { prefix: 'inj', model: 'MEDRAD Stellant', actions: ['log-upload', 'software-install', 'restart'] },
  { prefix: 'lab', model: 'cobas 8000', actions: ['remote-session', 'file-upload', 'script-run'] },
];
const VENDORS = [
  { enterprise: 'acme-medical', users: ['jdoe@acme.example', 'asmith@acme.example'], groups: ['tier2'] },
  { enterprise: 'globex', users: ['field1@globex.example'], groups: ['field'] },
];
const PATHS = ['/var/log/syslog', '/var/log/app/trace.log', '/opt/fw/fw-4.2.1.pkg', '/etc/app/settings.ini'];

export interface FleetOptions {
  urls: string[];
  enrollmentToken: string;
  devices: number;
  /** How long to play (ms). */
  durationMs: number;
  /** Mean pause between one device's requests (ms). */
  thinkMs: number;
  /** Device id prefix, so that several runs do not collide. */
  prefix: string;
  log?: (line: string) => void;
}

export interface FleetCounts {
  enrolled: number;
  allow: number;
  deny: number;
  pending: number;
  completed: number;
  errors: number;
}

const pick = <T>(list: readonly T[]): T => list[Math.floor(Math.random() * list.length)];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A realistic request for a device of this kind. */
export function randomRequest(actions: readonly string[]): AgentRequest {
  const vendor = pick(VENDORS);
  const action = pick(actions);
  const target =
    action === 'software-install'
      ? { package: 'fw', version: pick(['4.2.1', '4.3.0']), path: '/opt/fw/fw-4.2.1.pkg' }
      : ['file-download', 'file-upload', 'script-run'].includes(action)
        ? { path: pick(PATHS) }
        : undefined;
  return {
    action,
    remoteUser: { id: pick(vendor.users), enterprise: vendor.enterprise, groups: vendor.groups },
    ...(target ? { target } : {}),
    context: { ticket: `CS-${1000 + Math.floor(Math.random() * 9000)}`, reason: 'Simulated service request' },
  };
}

/**
 * Plays a fleet: each device enrolls, then until the time is up reports its state, asks for a
 * realistic action, acts on an allow (completes it) and leaves pending requests to approvers
 * (watching them with a short long poll). Ends by itself after `durationMs`.
 */
export async function runFleet(options: FleetOptions): Promise<FleetCounts> {
  const counts: FleetCounts = { enrolled: 0, allow: 0, deny: 0, pending: 0, completed: 0, errors: 0 };
  const log = options.log ?? (() => undefined);
  const endAt = Date.now() + options.durationMs;
  const device = async (n: number) => {
    const kind = MODELS[n % MODELS.length];
    const { agent } = await GatehouseAgent.enroll({
      urls: options.urls,
      enrollmentToken: options.enrollmentToken,
      device: { deviceId: `${options.prefix}${kind.prefix}-${n}`, model: kind.model, site: 'Simulated campus' },
      onEnd: (end) => log(`${kind.prefix}-${n}: ended ${end.requestId}: ${end.reason}`),
    });
    counts.enrolled++;
    while (Date.now() < endAt) {
      try {
        await agent.heartbeat({ inUse: Math.random() < 0.5, mode: pick(['idle', 'scanning', 'service']) });
        const answer = await agent.decide(randomRequest(kind.actions));
        counts[answer.decision]++;
        if (answer.decision === 'pending') {
          const wait = Math.max(0, Math.min(5, Math.floor((endAt - Date.now()) / 1000)));
          const later = await agent.status(answer.requestId, wait);
          if (later.decision !== 'pending') log(`${agent.deviceId}: ${answer.requestId} ${later.status}`);
        } else if (GatehouseAgent.mayAct(answer)) {
          const startedAt = new Date().toISOString();
          const consent = answer.obligations?.includes('local-consent')
            ? { consent: { by: 'Simulated operator', at: startedAt } }
            : {};
          await agent.complete(answer.requestId, { outcome: 'succeeded', startedAt, endedAt: startedAt, ...consent });
          counts.completed++;
        }
      } catch (error) {
        if (!(error instanceof GatehouseError || error instanceof GatehouseUnreachable)) throw error;
        counts.errors++;
        log(`${agent.deviceId}: ${error.message}`);
      }
      await sleep(Math.min(Math.max(0, endAt - Date.now()), options.thinkMs * (0.5 + Math.random())));
    }
  };
  const results = await Promise.allSettled(Array.from({ length: options.devices }, (_, n) => device(n)));
  for (const r of results) {
    if (r.status === 'rejected') {
      counts.errors++;
      log(`device failed: ${(r.reason as Error).message}`);
    }
  }
  return counts;
}
