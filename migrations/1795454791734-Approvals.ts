import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Approvals1795454791734 implements MigrationInterface {
  name = 'Approvals1795454791734';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE "approval_votes" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "request_id" uuid NOT NULL, "user_id" uuid NOT NULL, "username" text NOT NULL, "vote" text NOT NULL, "comment" text, "grant_minutes" integer, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_0dfa76d197be622174a4c1f1ecc" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "uq_approval_votes_request_user" ON "approval_votes"  ("request_id", "user_id") ',
    );
    await queryRunner.query(
      'CREATE TABLE "notifications" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "channel" text NOT NULL, "event" text NOT NULL, "request_id" uuid NOT NULL, "recipients" text array NOT NULL DEFAULT \'{}\', "payload" jsonb NOT NULL, "status" text NOT NULL DEFAULT \'pending\', "attempts" integer NOT NULL DEFAULT \'0\', "next_attempt_at" TIMESTAMP WITH TIME ZONE NOT NULL, "last_error" text, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL, "sent_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_6a72c3c0f683f6462415e653c3a" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE INDEX "idx_notifications_due" ON "notifications"  ("next_attempt_at") WHERE status = \'pending\'',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "uq_notifications_once" ON "notifications"  ("channel", "event", "request_id") ',
    );
    await queryRunner.query(
      'CREATE TABLE "grants" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "request_id" uuid NOT NULL, "device_id" text NOT NULL, "action" text NOT NULL, "remote_user_id" text NOT NULL, "target_key" text NOT NULL, "device_groups" text array NOT NULL DEFAULT \'{}\', "approved_by" text array NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL, "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, "ended_at" TIMESTAMP WITH TIME ZONE, "ended_by" text, CONSTRAINT "PK_a25f5f89eff8b3277f7969b7094" PRIMARY KEY ("id"))',
    );
    await queryRunner.query('CREATE UNIQUE INDEX "uq_grants_request" ON "grants"  ("request_id") ');
    await queryRunner.query('CREATE INDEX "idx_grants_live" ON "grants"  ("expires_at") WHERE ended_at IS NULL');
    await queryRunner.query('ALTER TABLE "users" ADD "email" text');
    await queryRunner.query('ALTER TABLE "decision_requests" ADD "device_groups" text array NOT NULL DEFAULT \'{}\'');
    await queryRunner.query('ALTER TABLE "decision_requests" ADD "notified_at" TIMESTAMP WITH TIME ZONE');
    await queryRunner.query('ALTER TABLE "decision_requests" ADD "reminded_at" TIMESTAMP WITH TIME ZONE');
    await queryRunner.query('ALTER TABLE "decision_requests" ADD "grant_id" uuid');
    await queryRunner.query(
      'CREATE INDEX "idx_decision_requests_queue" ON "decision_requests"  ("created_at", "request_id") WHERE approval IS NOT NULL',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX "public"."idx_decision_requests_queue"');
    await queryRunner.query('ALTER TABLE "decision_requests" DROP COLUMN "grant_id"');
    await queryRunner.query('ALTER TABLE "decision_requests" DROP COLUMN "reminded_at"');
    await queryRunner.query('ALTER TABLE "decision_requests" DROP COLUMN "notified_at"');
    await queryRunner.query('ALTER TABLE "decision_requests" DROP COLUMN "device_groups"');
    await queryRunner.query('ALTER TABLE "users" DROP COLUMN "email"');
    await queryRunner.query('DROP INDEX "public"."idx_grants_live"');
    await queryRunner.query('DROP INDEX "public"."uq_grants_request"');
    await queryRunner.query('DROP TABLE "grants"');
    await queryRunner.query('DROP INDEX "public"."uq_notifications_once"');
    await queryRunner.query('DROP INDEX "public"."idx_notifications_due"');
    await queryRunner.query('DROP TABLE "notifications"');
    await queryRunner.query('DROP INDEX "public"."uq_approval_votes_request_user"');
    await queryRunner.query('DROP TABLE "approval_votes"');
  }
}
