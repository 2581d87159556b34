import type { MigrationInterface, QueryRunner } from 'typeorm';

// The rows a batch inserts, and those whose grant had ended (migration OneTripCommits).
const RECORD_ROWS = `
        grant_ids := ARRAY(SELECT DISTINCT (e->>'grant_id')::uuid FROM jsonb_array_elements(p_rows) e
                           WHERE e->>'grant_id' IS NOT NULL);
        IF cardinality(grant_ids) > 0 THEN
          live := ARRAY(SELECT g.id FROM grants g WHERE g.id = ANY(grant_ids) AND g.ended_at IS NULL
                        AND g.expires_at > p_now FOR SHARE);
          ended := ARRAY(SELECT (e->>'request_id')::uuid FROM jsonb_array_elements(p_rows) e
                         WHERE e->>'grant_id' IS NOT NULL AND NOT (e->>'grant_id')::uuid = ANY(live));
        END IF;
        WITH ins AS (
          INSERT INTO decision_requests (request_id, device_id, device_groups, body_hash, action, remote_user, target,
            context, status, reason, rule_ids, policy_version, approval, created_at, decided_at, expires_at, valid_until,
            grant_id)
          SELECT r.request_id, r.device_id, r.device_groups, r.body_hash, r.action, r.remote_user, r.target, r.context,
            r.status, r.reason, r.rule_ids, r.policy_version, r.approval, r.created_at, r.decided_at, r.expires_at,
            r.valid_until, r.grant_id
          FROM jsonb_to_recordset(p_rows) AS r(request_id uuid, device_id text, device_groups text[], body_hash text,
            action text, remote_user jsonb, target jsonb, context jsonb, status text, reason text, rule_ids text[],
            policy_version text, approval jsonb, created_at timestamptz, decided_at timestamptz,
            expires_at timestamptz, valid_until timestamptz, grant_id uuid)
          WHERE NOT r.request_id = ANY(ended)
          -- One order for every replica: two batches holding the same ids cannot deadlock.
          ORDER BY r.request_id
          ON CONFLICT (request_id) DO NOTHING
          RETURNING request_id
        )
        SELECT coalesce(array_agg(request_id), '{}') INTO inserted FROM ins;`;

const DECLARE = `
      DECLARE
        grant_ids uuid[];
        live uuid[] := '{}';
        ended uuid[] := '{}';
        inserted uuid[];
      BEGIN`;

const RETURN_ROWS = `
        RETURN QUERY SELECT unnest(inserted), 'inserted'::text UNION ALL SELECT unnest(ended), 'grant_ended'::text;
      END $$`;

/**
 * One owner per table: record_decisions no longer appends the audit records itself. It
 * writes the decisions only; DecisionWriter chains the records on in the same statement
 * through the audit module's auditedStatement (src/audit/audit-writer.ts), the one place
 * that calls audit_append. Still one statement, one round trip, one commit per batch.
 */
export class DecisionsAuditThroughAudit1796620000000 implements MigrationInterface {
  name = 'DecisionsAuditThroughAudit1796620000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE FUNCTION record_decisions(p_rows jsonb, p_now timestamptz)
      RETURNS TABLE (out_request_id uuid, out_result text) LANGUAGE plpgsql AS $$${DECLARE}${RECORD_ROWS}${RETURN_ROWS}`);
    await queryRunner.query('DROP FUNCTION record_decisions(jsonb, text[], timestamptz, text)');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE FUNCTION record_decisions(p_rows jsonb, p_contents text[], p_now timestamptz, p_recorded_at text)
      RETURNS TABLE (out_request_id uuid, out_result text) LANGUAGE plpgsql AS $$${DECLARE}${RECORD_ROWS}
        PERFORM audit_append(
          ARRAY(SELECT u.c FROM unnest(p_contents) WITH ORDINALITY AS u(c, o)
                WHERE (p_rows->(u.o::int - 1)->>'request_id')::uuid = ANY(inserted) ORDER BY u.o),
          p_recorded_at);${RETURN_ROWS}`);
    await queryRunner.query('DROP FUNCTION record_decisions(jsonb, timestamptz)');
  }
}
