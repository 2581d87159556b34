import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Signed checkpoints of the audit chain, kept outside audit_records, and the appliance's
 * signing keys. Deleting the chain's newest records (as the table's owner, triggers off) left
 * `verify` saying ok and the next append reused their sequence numbers: now the last checkpoint
 * names a record that must still be there with that hash, and audit_append continues after it.
 */
export class SignedCheckpoints1796560000000 implements MigrationInterface {
  name = 'SignedCheckpoints1796560000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE "audit_checkpoints" ("seq" bigint NOT NULL, "hash" text NOT NULL, "at" TIMESTAMP WITH TIME ZONE NOT NULL, "key_id" text NOT NULL, "signature" text NOT NULL, CONSTRAINT "PK_00d27c519361818fba5bb6602de" PRIMARY KEY ("seq"))',
    );
    await queryRunner.query(
      'CREATE TABLE "signing_keys" ("key_id" text NOT NULL, "algorithm" text NOT NULL, "public_key" text NOT NULL, "private_key" text, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL, "retired_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_e02f744a41c3ffa8340aa850638" PRIMARY KEY ("key_id"))',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "idx_signing_keys_current" ON "signing_keys"  ("algorithm") WHERE retired_at IS NULL',
    );
    // Checkpoints are append-only like the records they vouch for.
    await queryRunner.query(`CREATE FUNCTION append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
      END $$`);
    await queryRunner.query(
      'CREATE TRIGGER audit_checkpoints_no_update_delete BEFORE UPDATE OR DELETE ON audit_checkpoints FOR EACH ROW EXECUTE FUNCTION append_only()',
    );
    await queryRunner.query(
      'CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints FOR EACH STATEMENT EXECUTE FUNCTION append_only()',
    );
    await queryRunner.query(appendFunction(true));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(appendFunction(false));
    await queryRunner.query('DROP TABLE "audit_checkpoints"');
    await queryRunner.query('DROP FUNCTION append_only()');
    await queryRunner.query('DROP INDEX "public"."idx_signing_keys_current"');
    await queryRunner.query('DROP TABLE "signing_keys"');
  }
}

/**
 * audit_append as in OneTripCommits, and (withCheckpoints) continuing after the last
 * checkpoint when the chain's head is behind it: the records after the head were removed, and
 * their numbers must not be given again (verify then reports them missing, not a clean chain).
 */
function appendFunction(withCheckpoints: boolean): string {
  const continueAfterCheckpoint = withCheckpoints
    ? `SELECT c.seq, c.hash INTO cp_seq, cp_hash FROM audit_checkpoints c ORDER BY c.seq DESC LIMIT 1;
        IF FOUND AND cp_seq > head_seq THEN
          head_seq := cp_seq;
          head_hash := cp_hash;
        END IF;`
    : '';
  return `CREATE OR REPLACE FUNCTION audit_append(p_contents text[], p_recorded_at text)
      RETURNS TABLE (out_seq bigint, out_prev_hash text, out_hash text) LANGUAGE plpgsql AS $$
      DECLARE
        n int := coalesce(array_length(p_contents, 1), 0);
        head_seq bigint;
        head_hash text;
        cp_seq bigint;
        cp_hash text;
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
        ${continueAfterCheckpoint}
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
      END $$`;
}
