import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Audit retention (src/audit/audit-prune.ts): the append-only trigger lets through a DELETE of
 * a record at or below `gatehouse.audit_prune_through`, a setting that audit:prune sets for its
 * one transaction (SET LOCAL), and only of records a signed checkpoint covers. The trigger is
 * not the wall: the server's role has no DELETE right on audit_records (server-role.ts), so
 * only the tables' owner (DATABASE_MIGRATION_URL) can prune; UPDATE and TRUNCATE stay refused.
 */
export class AuditRetention1796640000000 implements MigrationInterface {
  name = 'AuditRetention1796640000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE OR REPLACE FUNCTION audit_records_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        through bigint := nullif(current_setting('gatehouse.audit_prune_through', true), '')::bigint;
      BEGIN
        IF TG_OP = 'DELETE' AND through IS NOT NULL AND OLD.seq <= through
           AND EXISTS (SELECT 1 FROM audit_checkpoints c WHERE c.seq >= OLD.seq) THEN
          RETURN OLD;
        END IF;
        RAISE EXCEPTION 'audit_records is append-only: % is not allowed', TG_OP USING ERRCODE = 'insufficient_privilege';
      END $$`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE OR REPLACE FUNCTION audit_records_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit_records is append-only: % is not allowed', TG_OP USING ERRCODE = 'insufficient_privilege';
      END $$`);
  }
}
