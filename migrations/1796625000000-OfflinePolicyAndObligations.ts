import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Agent API 1.1. `decision_requests.obligations`: what the agent must do before acting on an
 * allow (`local-consent` for attended rules), kept with the request so that the answer to a
 * poll, and the allow after an approval, carry it. `offline_policy_issues`: which policy
 * version each device was given as its offline policy, and until when it may use it, so that
 * uploaded offline decisions are checked against what the device really held.
 * record_decisions (as DecisionsAuditThroughAudit left it) is redefined to write the obligations.
 */
export class OfflinePolicyAndObligations1796625000000 implements MigrationInterface {
  name = 'OfflinePolicyAndObligations1796625000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "decision_requests" ADD "obligations" text array NOT NULL DEFAULT \'{}\'');
    await queryRunner.query(
      'CREATE TABLE "offline_policy_issues" ("device_id" text NOT NULL, "policy_version" text NOT NULL, "first_issued_at" TIMESTAMP WITH TIME ZONE NOT NULL, "valid_until" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_2030500c8f809928a36bd01db1a" PRIMARY KEY ("device_id", "policy_version"))',
    );
    await queryRunner.query(recordDecisions(true));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(recordDecisions(false));
    await queryRunner.query('DROP TABLE "offline_policy_issues"');
    await queryRunner.query('ALTER TABLE "decision_requests" DROP COLUMN "obligations"');
  }
}

/** record_decisions as DecisionsAuditThroughAudit wrote it (decisions only), with or without the obligations column. */
function recordDecisions(withObligations: boolean): string {
  const column = withObligations ? ', obligations' : '';
  const value = withObligations ? ", coalesce(r.obligations, '{}')" : '';
  const type = withObligations ? ', obligations text[]' : '';
  return `CREATE OR REPLACE FUNCTION record_decisions(p_rows jsonb, p_now timestamptz)
      RETURNS TABLE (out_request_id uuid, out_result text) LANGUAGE plpgsql AS $$
      DECLARE
        grant_ids uuid[];
        live uuid[] := '{}';
        ended uuid[] := '{}';
        inserted uuid[];
      BEGIN
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
            grant_id${column})
          SELECT r.request_id, r.device_id, r.device_groups, r.body_hash, r.action, r.remote_user, r.target, r.context,
            r.status, r.reason, r.rule_ids, r.policy_version, r.approval, r.created_at, r.decided_at, r.expires_at,
            r.valid_until, r.grant_id${value}
          FROM jsonb_to_recordset(p_rows) AS r(request_id uuid, device_id text, device_groups text[], body_hash text,
            action text, remote_user jsonb, target jsonb, context jsonb, status text, reason text, rule_ids text[],
            policy_version text, approval jsonb, created_at timestamptz, decided_at timestamptz,
            expires_at timestamptz, valid_until timestamptz, grant_id uuid${type})
          WHERE NOT r.request_id = ANY(ended)
          -- One order for every replica: two batches holding the same ids cannot deadlock.
          ORDER BY r.request_id
          ON CONFLICT (request_id) DO NOTHING
          RETURNING request_id
        )
        SELECT coalesce(array_agg(request_id), '{}') INTO inserted FROM ins;
        RETURN QUERY SELECT unnest(inserted), 'inserted'::text UNION ALL SELECT unnest(ended), 'grant_ended'::text;
      END $$`;
}
