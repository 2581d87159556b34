import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The status index held every request, so each allowed or denied decision (nearly all of
 * them) paid an index insert in the commit that the agent waits for. The queries on it
 * only ever want pending requests (queue, expiry) or those whose outcome is still to be
 * announced: two partial indexes that the hot path does not touch.
 */
export class PartialDecisionIndexes1796553882852 implements MigrationInterface {
  name = 'PartialDecisionIndexes1796553882852';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX "public"."idx_decision_requests_status"');
    await queryRunner.query(
      'CREATE INDEX "idx_decision_requests_outcome_due" ON "decision_requests"  ("status") WHERE notified_at IS NOT NULL AND outcome_notified_at IS NULL',
    );
    await queryRunner.query(
      'CREATE INDEX "idx_decision_requests_pending" ON "decision_requests"  ("expires_at") WHERE status = \'pending\'',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX "public"."idx_decision_requests_pending"');
    await queryRunner.query('DROP INDEX "public"."idx_decision_requests_outcome_due"');
    await queryRunner.query(
      'CREATE INDEX "idx_decision_requests_status" ON "decision_requests" USING btree ("status", "expires_at") ',
    );
  }
}
