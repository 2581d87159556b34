import type { AuditFilters } from './audit-search.dto.js';

/** A WHERE clause and its parameters; values are only ever bound, never written into the SQL. */
export interface SqlCondition {
  where: string[];
  params: unknown[];
}

/**
 * The SQL of the audit filters. Each one matches an index of migration AuditSearchIndexes
 * (see EXPLAIN in test/audit/audit-search.e2e-spec.ts): a column or the JSON path it reads.
 * `deviceIds` is the deviceGroup filter already resolved to the devices in that group.
 */
export function auditConditions(f: AuditFilters, deviceIds?: string[]): SqlCondition {
  const c: SqlCondition = { where: [], params: [] };
  const add = (sql: string, value: unknown) => {
    c.params.push(value);
    c.where.push(sql.replace('?', `$${c.params.length}`));
  };
  if (f.from) add('recorded_at >= ?', new Date(f.from));
  if (f.to) add('recorded_at < ?', new Date(f.to));
  if (f.eventType) add('event_type = ?', f.eventType);
  if (f.deviceId) add('device_id = ?', f.deviceId);
  if (deviceIds) add('device_id = ANY(?)', deviceIds);
  if (f.remoteUser) add('remote_user = ?', f.remoteUser);
  if (f.enterprise) add("(details->>'enterprise') = ?", f.enterprise);
  if (f.actor) add('actor_id = ?', f.actor);
  if (f.outcome) add('outcome = ?', f.outcome);
  if (f.requestId) add('request_id = ?', f.requestId);
  // @> rather than = ANY: only the containment operator can use the GIN index.
  if (f.ruleId) add('rule_ids @> ARRAY[?]::text[]', f.ruleId);
  if (f.ticket) add("(details->'context'->>'ticket') = ?", f.ticket);
  return c;
}

export const whereClause = (c: SqlCondition) => (c.where.length ? `WHERE ${c.where.join(' AND ')}` : '');
