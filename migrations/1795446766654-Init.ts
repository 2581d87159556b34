import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Init1795446766654 implements MigrationInterface {
  name = 'Init1795446766654';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE "audit_records" ("seq" bigint NOT NULL, "recorded_at" TIMESTAMP WITH TIME ZONE NOT NULL, "event_type" text NOT NULL, "actor_type" text NOT NULL, "actor_id" text, "device_id" text, "action" text, "remote_user" text, "outcome" text, "rule_ids" text array NOT NULL DEFAULT \'{}\', "policy_version" text, "approvers" text array NOT NULL DEFAULT \'{}\', "source_address" text, "request_id" text, "details" jsonb NOT NULL DEFAULT \'{}\', "prev_hash" text NOT NULL, "hash" text NOT NULL, CONSTRAINT "PK_849d46c77cbd8a25c1e3cb456ff" PRIMARY KEY ("seq"))',
    );
    await queryRunner.query('CREATE INDEX "idx_audit_records_request_id" ON "audit_records"  ("request_id") ');
    await queryRunner.query('CREATE INDEX "idx_audit_records_event_type" ON "audit_records"  ("event_type", "seq") ');
    await queryRunner.query(
      'CREATE TABLE "login_throttle" ("username" text NOT NULL, "failures" integer NOT NULL DEFAULT \'0\', "last_failure_at" TIMESTAMP WITH TIME ZONE, "blocked_until" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_492a1f443be9453880bd406879e" PRIMARY KEY ("username"))',
    );
    await queryRunner.query(
      'CREATE TABLE "users" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "username" text NOT NULL, "display_name" text NOT NULL, "source" text NOT NULL DEFAULT \'local\', "password_hash" text, "disabled" boolean NOT NULL DEFAULT false, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "UQ_fe0bb3f6520ee0469504521e710" UNIQUE ("username"), CONSTRAINT "PK_a3ffb1c0c8416b9fc6f907b7433" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE TABLE "sessions" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "user_id" uuid NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "last_seen_at" TIMESTAMP WITH TIME ZONE NOT NULL, "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, "revoked_at" TIMESTAMP WITH TIME ZONE, "source_address" text, CONSTRAINT "PK_3238ef96f18b355b671619111bc" PRIMARY KEY ("id"))',
    );
    await queryRunner.query('CREATE INDEX "IDX_085d540d9f418cfbdc7bd55bb1" ON "sessions"  ("user_id") ');
    await queryRunner.query(
      'CREATE TABLE "groups" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "name" text NOT NULL, "source" text NOT NULL DEFAULT \'local\', "description" text NOT NULL DEFAULT \'\', "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "UQ_664ea405ae2a10c264d582ee563" UNIQUE ("name"), CONSTRAINT "PK_659d1483316afb28afd3a90646e" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE TABLE "settings" ("key" text NOT NULL, "value" jsonb NOT NULL, "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_c8639b7626fa94ba8265628f214" PRIMARY KEY ("key"))',
    );
    await queryRunner.query(
      'CREATE TABLE "group_members" ("group_id" uuid NOT NULL, "user_id" uuid NOT NULL, CONSTRAINT "PK_f5939ee0ad233ad35e03f5c65c1" PRIMARY KEY ("group_id", "user_id"))',
    );
    await queryRunner.query('CREATE INDEX "IDX_2c840df5db52dc6b4a1b0b69c6" ON "group_members"  ("group_id") ');
    await queryRunner.query('CREATE INDEX "IDX_20a555b299f75843aa53ff8b0e" ON "group_members"  ("user_id") ');
    await queryRunner.query(
      'ALTER TABLE "sessions" ADD CONSTRAINT "FK_085d540d9f418cfbdc7bd55bb19" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION',
    );
    await queryRunner.query(
      'ALTER TABLE "group_members" ADD CONSTRAINT "FK_2c840df5db52dc6b4a1b0b69c6e" FOREIGN KEY ("group_id") REFERENCES "groups"("id") ON DELETE CASCADE ON UPDATE CASCADE',
    );
    await queryRunner.query(
      'ALTER TABLE "group_members" ADD CONSTRAINT "FK_20a555b299f75843aa53ff8b0ee" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE',
    );
    // INVARIANT: the audit trail is append-only, enforced by the database itself, so no
    // code path (or person with the application's credentials) can edit it unnoticed.
    await queryRunner.query(`CREATE FUNCTION audit_records_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit_records is append-only: % is not allowed', TG_OP USING ERRCODE = 'insufficient_privilege';
      END $$`);
    await queryRunner.query(
      'CREATE TRIGGER audit_records_no_update_delete BEFORE UPDATE OR DELETE ON audit_records FOR EACH ROW EXECUTE FUNCTION audit_records_append_only()',
    );
    await queryRunner.query(
      'CREATE TRIGGER audit_records_no_truncate BEFORE TRUNCATE ON audit_records FOR EACH STATEMENT EXECUTE FUNCTION audit_records_append_only()',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TRIGGER audit_records_no_truncate ON audit_records');
    await queryRunner.query('DROP TRIGGER audit_records_no_update_delete ON audit_records');
    await queryRunner.query('DROP FUNCTION audit_records_append_only()');
    await queryRunner.query('ALTER TABLE "group_members" DROP CONSTRAINT "FK_20a555b299f75843aa53ff8b0ee"');
    await queryRunner.query('ALTER TABLE "group_members" DROP CONSTRAINT "FK_2c840df5db52dc6b4a1b0b69c6e"');
    await queryRunner.query('ALTER TABLE "sessions" DROP CONSTRAINT "FK_085d540d9f418cfbdc7bd55bb19"');
    await queryRunner.query('DROP INDEX "public"."IDX_20a555b299f75843aa53ff8b0e"');
    await queryRunner.query('DROP INDEX "public"."IDX_2c840df5db52dc6b4a1b0b69c6"');
    await queryRunner.query('DROP TABLE "group_members"');
    await queryRunner.query('DROP TABLE "settings"');
    await queryRunner.query('DROP TABLE "groups"');
    await queryRunner.query('DROP INDEX "public"."IDX_085d540d9f418cfbdc7bd55bb1"');
    await queryRunner.query('DROP TABLE "sessions"');
    await queryRunner.query('DROP TABLE "users"');
    await queryRunner.query('DROP TABLE "login_throttle"');
    await queryRunner.query('DROP INDEX "public"."idx_audit_records_event_type"');
    await queryRunner.query('DROP INDEX "public"."idx_audit_records_request_id"');
    await queryRunner.query('DROP TABLE "audit_records"');
  }
}
