import type { MigrationInterface, QueryRunner } from 'typeorm';

export class ApprovalOutcomes1795458383757 implements MigrationInterface {
  name = 'ApprovalOutcomes1795458383757';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "decision_requests" ADD "outcome_notified_at" TIMESTAMP WITH TIME ZONE');
    await queryRunner.query(
      'CREATE INDEX "idx_grants_repeat" ON "grants"  ("device_id", "action", "remote_user_id", "target_key") WHERE ended_at IS NULL',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX "public"."idx_grants_repeat"');
    await queryRunner.query('ALTER TABLE "decision_requests" DROP COLUMN "outcome_notified_at"');
  }
}
