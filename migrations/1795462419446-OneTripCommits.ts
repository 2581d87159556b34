import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Appending to the audit chain, and recording a batch of decisions with their audit records,
 * each in ONE statement (one round trip, committed on its own or inside the caller's
 * transaction). Before, a decision commit took six round trips (BEGIN, insert, lock, head,
 * insert, COMMIT), most of them while holding the chain lock: bench:decisions measured the
 * commits, not the engine, as what held the answers back.
 *
 * The record hash is the one audit-chain.ts `hashRecord` computes (and the verifier checks):
 * SHA-256 of "<prev hash>\n<seq>\n<recorded at, ISO 8601 UTC with ms>\n<content JSON>", the
 * content JSON being the canonical JSON the application prepared; p_recorded_at is that ISO
 * text (JavaScript's toISOString). The columns are read back
 * out of that same JSON, so what is stored is exactly what was hashed.
 */
export class OneTripCommits1795462419446 implements MigrationInterface {
  name = 'OneTripCommits1795462419446';

  async up(queryRunner: QueryRunner): Promise<void> {
    // INVARIANT: every append goes through this function. It takes the chain lock (advisory
    // transaction lock 1635083369 = 0x61756469, "audi") before it reads the head, and each
    // statement of a plpgsql function reads with a fresh snapshot, so the head read sees
    // every append committed before the lock was ours: the chain never forks, whichever
    // process or replica appends.
    await queryRunner.query(`CREATE FUNCTION audit_append(p_contents text[], p_recorded_at text)
      RETURNS TABLE (out_seq bigint, out_prev_hash text, out_hash text) LANGUAGE plpgsql AS $$
      DECLARE
        n int := coalesce(array_length(p_contents, 1), 0);
        head_seq bigint;
        head_hash text;
        seqs bigint[] := '{}';
        prevs text[] := '{}';
        hashes text[] := '{}';
      BEGIN
        IF n = 0 THEN RETURN; END IF;
        PERFORM pg_advisory_xact_lock(1635083369);
        SELECT a.seq, a.hash INTO head_seq, head_hash FROM audit_records a ORDER BY a.seq DESC LIMIT 1;
        IF NOT FOUND THEN
          head_seq := 0;
          head_hash := repeat('0', 64);
        END IF;
        FOR i IN 1..n LOOP
          head_seq := head_seq + 1;
          prevs[i] := head_hash;
          head_hash := encode(sha256(convert_to(
            head_hash || E'\\n' || head_seq || E'\\n' || p_recorded_at || E'\\n' || p_contents[i], 'UTF8')), 'hex');
          seqs[i] := head_seq;
          hashes[i] := head_hash;
        END LOOP;
        INSERT INTO audit_records (seq, recorded_at, event_type, actor_type, actor_id, device_id, action, remote_user,
          outcome, rule_ids, policy_version, approvers, source_address, request_id, details, prev_hash, hash)
        SELECT r.s, p_recorded_at::timestamptz, r.c->>0, r.c->>1, r.c->>2, r.c->>3, r.c->>4, r.c->>5, r.c->>6,
          ARRAY(SELECT jsonb_array_elements_text(r.c->7)), r.c->>8, ARRAY(SELECT jsonb_array_elements_text(r.c->9)),
          r.c->>10, r.c->>11, r.c->12, r.p, r.h
        FROM (SELECT unnest(seqs) AS s, unnest(p_contents)::jsonb AS c, unnest(prevs) AS p, unnest(hashes) AS h) r;
        RETURN QUERY SELECT unnest(seqs), unnest(prevs), unnest(hashes);
      END $$`);

    // A batch of decisions (p_rows, a JSON array) and their audit records' content JSON
    // (p_contents, in the same order); the request ids must be distinct (the caller keeps the
    // first of each). Repeats allowed by a grant are kept only if the grant is still live
    // at p_now (FOR SHARE: ending it waits for this commit, so no allow outlives its grant);
    // request ids already stored are skipped; the audit records of the rows inserted are
    // appended in batch order. Returns the request ids inserted ('inserted') and those whose
    // grant had ended ('grant_ended'); any other id was already stored.
    await queryRunner.query(`CREATE FUNCTION record_decisions(p_rows jsonb, p_contents text[], p_now timestamptz, p_recorded_at text)
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
        SELECT coalesce(array_agg(request_id), '{}') INTO inserted FROM ins;
        PERFORM audit_append(
          ARRAY(SELECT u.c FROM unnest(p_contents) WITH ORDINALITY AS u(c, o)
                WHERE (p_rows->(u.o::int - 1)->>'request_id')::uuid = ANY(inserted) ORDER BY u.o),
          p_recorded_at);
        RETURN QUERY SELECT unnest(inserted), 'inserted'::text UNION ALL SELECT unnest(ended), 'grant_ended'::text;
      END $$`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP FUNCTION record_decisions(jsonb, text[], timestamptz, text)');
    await queryRunner.query('DROP FUNCTION audit_append(text[], text)');
  }
}
