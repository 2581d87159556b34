import type { MigrationInterface, QueryRunner } from 'typeorm';

export class DecisionRequests1795450416450 implements MigrationInterface {
  name = 'DecisionRequests1795450416450';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE "decision_requests" ("request_id" uuid NOT NULL, "device_id" text NOT NULL, "body_hash" text NOT NULL, "action" text NOT NULL, "remote_user" jsonb NOT NULL, "target" jsonb, "context" jsonb, "status" text NOT NULL, "reason" text NOT NULL, "rule_ids" text array NOT NULL DEFAULT \'{}\', "policy_version" text, "approval" jsonb, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL, "decided_at" TIMESTAMP WITH TIME ZONE, "expires_at" TIMESTAMP WITH TIME ZONE, "valid_until" TIMESTAMP WITH TIME ZONE, "completed_at" TIMESTAMP WITH TIME ZONE, "outcome" jsonb, CONSTRAINT "PK_a5a16cb7750ff9fc4a9de8b1691" PRIMARY KEY ("request_id"))',
    );
    await queryRunner.query(
      'CREATE INDEX "idx_decision_requests_status" ON "decision_requests"  ("status", "expires_at") ',
    );
    await queryRunner.query(
      'CREATE INDEX "idx_decision_requests_device" ON "decision_requests"  ("device_id", "created_at") ',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX "public"."idx_decision_requests_device"');
    await queryRunner.query('DROP INDEX "public"."idx_decision_requests_status"');
    await queryRunner.query('DROP TABLE "decision_requests"');
  }
}
