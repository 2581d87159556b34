import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 16: decisions' audit records no longer wait for the chain's lock. A decision's batch
 * commits its record into audit_inbox (no lock: batches commit in parallel), durable before
 * the answer leaves; the sealer (src/audit/sealer/) moves inbox rows into audit_records under
 * the chain's lock shortly after, in id order, with seq and hash continuing the chain exactly
 * as audit_append computes them. The DELETE from the inbox and the INSERT into the chain commit
 * together: each record is sealed once, and one left by a crashed sealer is sealed by the next.
 *
 * audit_append (the synchronous path of every other record) seals the inbox first, under the
 * lock it takes anyway: a record appended after a decision was answered (a vote on it, say)
 * never lands in the chain before that decision's record.
 */
export class AuditInbox1796660000000 implements MigrationInterface {
  name = 'AuditInbox1796660000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    // recorded_at and content are kept as the exact text the record's hash covers; the other
    // columns are audit_records' own, parsed from content when queued (in the parallel commits:
    // parsing is most of an INSERT's cost, measured 40-60 µs a record) so that the sealer, the
    // one serial step, only hashes and copies. queued_at (the database's clock) measures the lag.
    await queryRunner.query(
      `CREATE TABLE "audit_inbox" ("id" bigserial NOT NULL, "queued_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT clock_timestamp(), "recorded_at" text NOT NULL, "content" text NOT NULL, ${RECORD_COLUMNS_DDL}, CONSTRAINT "PK_audit_inbox" PRIMARY KEY ("id"))`,
    );
    // A queue: every row is deleted soon after its insert. Vacuum it whenever a few thousand
    // rows are dead, not at 20% of a table that is nearly always empty.
    await queryRunner.query(
      'ALTER TABLE "audit_inbox" SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 5000)',
    );
    await queryRunner.query(`CREATE FUNCTION audit_enqueue(p_contents text[], p_recorded_at text)
      RETURNS bigint LANGUAGE sql AS $$
        WITH queued AS (
          INSERT INTO audit_inbox (recorded_at, content, ${RECORD_COLUMNS})
          SELECT p_recorded_at, u.c, ${PARSED('u.c::jsonb')}
          FROM unnest(p_contents) WITH ORDINALITY AS u(c, n) ORDER BY u.n
          RETURNING 1)
        SELECT count(*) FROM queued
      $$`);
    await queryRunner.query(sealLocked());
    await queryRunner.query(`CREATE FUNCTION audit_seal(p_max int, p_wait boolean) RETURNS int LANGUAGE plpgsql AS $$
      BEGIN
        -- Nothing committed waits: no lock taken (a read barrier on a quiet trail costs one look).
        IF NOT EXISTS (SELECT 1 FROM audit_inbox ORDER BY id LIMIT 1) THEN RETURN 0; END IF;
        IF p_wait THEN
          PERFORM pg_advisory_xact_lock(1635083369);
        ELSIF NOT pg_try_advisory_xact_lock(1635083369) THEN
          -- Another sealer or appender holds the chain: it seals (audit_append seals first).
          RETURN -1;
        END IF;
        RETURN audit_seal_locked(p_max);
      END $$`);
    await queryRunner.query(appendFunction(true));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    // Seal what waits, so that no acknowledged decision's record is dropped with the table.
    await queryRunner.query('SELECT audit_seal(2147483647, true)');
    await queryRunner.query(appendFunction(false));
    await queryRunner.query('DROP FUNCTION audit_seal(int, boolean)');
    await queryRunner.query('DROP FUNCTION audit_seal_locked(int)');
    await queryRunner.query('DROP FUNCTION audit_enqueue(text[], text)');
    await queryRunner.query('DROP TABLE "audit_inbox"');
  }
}

/** The chain's head: the newest record, or the last checkpoint when records after it were removed (SignedCheckpoints). */
const HEAD = `
        SELECT a.seq, a.hash INTO head_seq, head_hash FROM audit_records a ORDER BY a.seq DESC LIMIT 1;
        IF NOT FOUND THEN
          head_seq := 0;
          head_hash := repeat('0', 64);
        END IF;
        SELECT c.seq, c.hash INTO cp_seq, cp_hash FROM audit_checkpoints c ORDER BY c.seq DESC LIMIT 1;
        IF FOUND AND cp_seq > head_seq THEN
          head_seq := cp_seq;
          head_hash := cp_hash;
        END IF;`;

/** audit_records' columns that come from a record's content, and the content's JSON array (canonicalJson) parsed into them. */
const RECORD_COLUMNS =
  'event_type, actor_type, actor_id, device_id, action, remote_user, outcome, rule_ids, policy_version, approvers, source_address, request_id, details';
const RECORD_COLUMNS_DDL =
  '"event_type" text NOT NULL, "actor_type" text NOT NULL, "actor_id" text, "device_id" text, "action" text, "remote_user" text, "outcome" text, "rule_ids" text[] NOT NULL, "policy_version" text, "approvers" text[] NOT NULL, "source_address" text, "request_id" text, "details" jsonb NOT NULL';
const PARSED = (c: string) =>
  `(${c})->>0, (${c})->>1, (${c})->>2, (${c})->>3, (${c})->>4, (${c})->>5, (${c})->>6,
          ARRAY(SELECT jsonb_array_elements_text((${c})->7)), (${c})->>8, ARRAY(SELECT jsonb_array_elements_text((${c})->9)),
          (${c})->>10, (${c})->>11, (${c})->12`;

/** audit_append's own records (few): parsed here. */
const INSERT_CHAINED = `
        INSERT INTO audit_records (seq, recorded_at, ${RECORD_COLUMNS}, prev_hash, hash)
        SELECT r.s, r.t::timestamptz, ${PARSED('r.c')}, r.p, r.h
        FROM (SELECT unnest(seqs) AS s, unnest(times) AS t, unnest(contents)::jsonb AS c, unnest(prevs) AS p,
          unnest(hashes) AS h) r;`;

/**
 * Moves up to p_max of the oldest inbox rows into the chain; the caller holds the chain's lock.
 * Returns how many it sealed.
 */
function sealLocked(): string {
  return `CREATE FUNCTION audit_seal_locked(p_max int) RETURNS int LANGUAGE plpgsql AS $$
      DECLARE
        n int;
        moved int;
        head_seq bigint;
        head_hash text;
        cp_seq bigint;
        cp_hash text;
        ids bigint[];
        times text[];
        contents text[];
        seqs bigint[] := '{}';
        prevs text[] := '{}';
        hashes text[] := '{}';
      BEGIN
        SELECT array_agg(i.id ORDER BY i.id), array_agg(i.recorded_at ORDER BY i.id), array_agg(i.content ORDER BY i.id)
          INTO ids, times, contents
          FROM (SELECT id, recorded_at, content FROM audit_inbox ORDER BY id LIMIT p_max) i;
        n := coalesce(array_length(ids, 1), 0);
        IF n = 0 THEN RETURN 0; END IF;
        ${HEAD}
        FOR i IN 1..n LOOP
          head_seq := head_seq + 1;
          prevs[i] := head_hash;
          head_hash := encode(sha256(convert_to(
            head_hash || E'\\n' || head_seq || E'\\n' || times[i] || E'\\n' || contents[i], 'UTF8')), 'hex');
          seqs[i] := head_seq;
          hashes[i] := head_hash;
        END LOOP;
        -- The rows read above are the rows moved: only a sealer deletes them, under the lock held.
        WITH gone AS (DELETE FROM audit_inbox WHERE id = ANY(ids) RETURNING *)
        INSERT INTO audit_records (seq, recorded_at, ${RECORD_COLUMNS}, prev_hash, hash)
        SELECT c.seq, g.recorded_at::timestamptz, ${RECORD_COLUMNS.split(', ')
          .map((col) => `g.${col}`)
          .join(', ')}, c.prev, c.hash
        FROM gone g JOIN unnest(ids, seqs, prevs, hashes) AS c(id, seq, prev, hash) ON c.id = g.id;
        GET DIAGNOSTICS moved = ROW_COUNT;
        IF moved <> n THEN
          RAISE EXCEPTION 'audit_seal: % inbox rows read but % moved (deleted by someone else?)', n, moved;
        END IF;
        RETURN n;
      END $$`;
}

/**
 * audit_append as SignedCheckpoints left it, and (sealFirst) sealing the inbox before its own
 * records, under the same lock.
 */
function appendFunction(sealFirst: boolean): string {
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
        times text[];
        contents text[] := p_contents;
      BEGIN
        IF n = 0 THEN RETURN; END IF;
        PERFORM pg_advisory_xact_lock(1635083369);
        ${sealFirst ? 'LOOP EXIT WHEN audit_seal_locked(10000) < 10000; END LOOP;' : ''}
        ${HEAD}
        FOR i IN 1..n LOOP
          head_seq := head_seq + 1;
          prevs[i] := head_hash;
          head_hash := encode(sha256(convert_to(
            head_hash || E'\\n' || head_seq || E'\\n' || p_recorded_at || E'\\n' || p_contents[i], 'UTF8')), 'hex');
          seqs[i] := head_seq;
          hashes[i] := head_hash;
        END LOOP;
        times := array_fill(p_recorded_at, ARRAY[n]);
        ${INSERT_CHAINED}
        RETURN QUERY SELECT unnest(seqs), unnest(prevs), unnest(hashes);
      END $$`;
}
