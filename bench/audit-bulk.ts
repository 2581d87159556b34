/**
 * Many audit records fast, for the export test and bench:audit's search measures: content made
 * by generate_series-style numbering and the chain hashed by PostgreSQL itself, in one
 * statement per batch, exactly as audit_append (migration OneTripCommits) hashes, the columns being the
 * same content: the chain is real and verifies. (audit_append itself appends ~10,000 records/s here, too slow for
 * millions; this recursive query ~75,000/s.) Nothing else may append while it runs: it reads
 * the head without the chain lock. The content JSON is canonical (as canonicalJson writes
 * it), shaped like a decision's record: 200 devices, 50 remote users, 5 enterprises, 20 rules.
 */
export const BULK_EVENT_TYPE = 'bulk.decision';

/** The content JSON of record number `g` (an SQL expression). */
const content = (g: string) =>
  `'["${BULK_EVENT_TYPE}","device","dev-' || (${g} % 200) || '","dev-' || (${g} % 200) || '","remote-session","user' ||
  (${g} % 50) || '@vendor.example","' || (CASE WHEN ${g} % 10 = 0 THEN 'denied' ELSE 'allowed' END) || '",["rule-' ||
  (${g} % 20) || '"],"v1",[],"10.0.0.1",null,{"enterprise":"enterprise-' || (${g} % 5) || '","i":' || ${g} || '}]'`;

export async function appendBulkRecords(
  query: (sql: string, params: unknown[]) => Promise<unknown>,
  count: number,
  recordedAt: Date,
  batch = 500_000,
): Promise<void> {
  for (let done = 0; done < count; done += batch) {
    const n = Math.min(batch, count - done);
    await query(
      `WITH RECURSIVE head AS (
         SELECT coalesce((SELECT seq FROM audit_records ORDER BY seq DESC LIMIT 1), 0) AS seq,
                coalesce((SELECT hash FROM audit_records ORDER BY seq DESC LIMIT 1), repeat('0', 64)) AS hash),
       chain(g, seq, prev, hash) AS (
         SELECT $1::bigint, seq, NULL::text, hash FROM head
         UNION ALL
         SELECT c.g + 1, c.seq + 1, c.hash, encode(sha256(convert_to(
           c.hash || E'\\n' || (c.seq + 1) || E'\\n' || $3 || E'\\n' || ${content('(c.g + 1)')}, 'UTF8')), 'hex')
         FROM chain c WHERE c.g < $2::bigint)
       INSERT INTO audit_records (seq, recorded_at, event_type, actor_type, actor_id, device_id, action, remote_user,
         outcome, rule_ids, policy_version, approvers, source_address, request_id, details, prev_hash, hash)
       SELECT r.seq, $3::timestamptz, '${BULK_EVENT_TYPE}', 'device', 'dev-' || (r.g % 200), 'dev-' || (r.g % 200),
         'remote-session', 'user' || (r.g % 50) || '@vendor.example',
         CASE WHEN r.g % 10 = 0 THEN 'denied' ELSE 'allowed' END, ARRAY['rule-' || (r.g % 20)], 'v1', '{}',
         '10.0.0.1', NULL, jsonb_build_object('enterprise', 'enterprise-' || (r.g % 5), 'i', r.g), r.prev, r.hash
       FROM chain r WHERE r.prev IS NOT NULL`,
      [done, done + n, recordedAt.toISOString()],
    );
  }
}
