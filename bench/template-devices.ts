import { enrollDevices } from './bench-server.js';

/** The device kinds bench copies cycle through: model, and so the policy files' device group. */
export const TEMPLATE_DEVICES = [
  { id: 'tpl-ct', model: 'SOMATOM X.cite' },
  { id: 'tpl-mri', model: 'MAGNETOM Vida' },
  { id: 'tpl-injector', model: 'MEDRAD Stellant' },
  { id: 'tpl-lab', model: 'cobas pro' },
];

/** The template devices, enrolled through the API (their rows are real); their credentials by id. */
export async function enrollTemplateDevices(base: string, admin: string): Promise<Map<string, string>> {
  const credentials = await enrollDevices(
    base,
    admin,
    TEMPLATE_DEVICES.map((t) => ({ deviceId: t.id, model: t.model })),
  );
  return new Map(TEMPLATE_DEVICES.map((t, i) => [t.id, credentials[i]]));
}

/**
 * Devices dev-00001 ... dev-<count>, each a template's row with a new id (model kind i % 4),
 * site, last seen and reported state by i, the credential `bench-credential-i` (stored as its
 * SHA-256, as Gatehouse stores credentials); every 50th revoked. One statement.
 */
export async function copyTemplateDevices(
  query: (sql: string, params: unknown[]) => Promise<unknown>,
  count: number,
): Promise<void> {
  await query(
    `INSERT INTO devices (id, model, serial_number, site, agent_version, actions, credential_hash, assigned_groups,
       enrollment_token_id, enrolled_at, last_seen_at, state, state_reported_at, revoked_at, group_scope)
     SELECT 'dev-' || lpad(i::text, 5, '0'), t.model, 'SN' || (100000 + i),
       CASE WHEN i % 3 = 0 THEN 'North clinic' ELSE 'Main campus' END, t.agent_version, t.actions,
       encode(sha256(('bench-credential-' || i)::bytea), 'hex'), t.assigned_groups, t.enrollment_token_id,
       now() - (i || ' minutes')::interval,
       CASE WHEN i % 5 = 0 THEN NULL ELSE now() - ((i % 2000) || ' minutes')::interval END,
       CASE WHEN i % 4 = 0 THEN NULL ELSE jsonb_build_object('inUse', i % 2 = 0) END,
       CASE WHEN i % 4 = 0 THEN NULL ELSE now() - ((i % 30) || ' minutes')::interval END,
       CASE WHEN i % 50 = 0 THEN now() ELSE NULL END, t.group_scope
     FROM generate_series(1, $1::int) AS i
     JOIN devices t ON t.id = ($2::text[])[1 + i % $3::int]`,
    [count, TEMPLATE_DEVICES.map((t) => t.id), TEMPLATE_DEVICES.length],
  );
}
