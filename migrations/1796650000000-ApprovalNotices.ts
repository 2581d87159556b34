import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The approval jobs' marks (who was told of a pending request, reminded, told the outcome)
 * move from decision_requests to approval_notices, a table of the approvals module (issue 11
 * item 11: one owner per table), with their data. The old columns and their index stay, unused,
 * for one release (docs/upgrades.md): a replica of the previous release keeps working during a
 * rolling upgrade (its approval jobs may announce a request the new ones announced already:
 * a duplicate e-mail in that window, never a missing one). The next release drops them.
 */
export class ApprovalNotices1796650000000 implements MigrationInterface {
  name = 'ApprovalNotices1796650000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "approval_notices" ("request_id" uuid NOT NULL, "notified_at" TIMESTAMP WITH TIME ZONE NOT NULL, "reminded_at" TIMESTAMP WITH TIME ZONE, "outcome_notified_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_approval_notices" PRIMARY KEY ("request_id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "idx_approval_notices_outcome_due" ON "approval_notices" ("request_id") WHERE outcome_notified_at IS NULL`,
    );
    await queryRunner.query(
      `INSERT INTO approval_notices (request_id, notified_at, reminded_at, outcome_notified_at)
       SELECT request_id, notified_at, reminded_at, outcome_notified_at FROM decision_requests
       WHERE notified_at IS NOT NULL`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `UPDATE decision_requests r SET notified_at = n.notified_at, reminded_at = n.reminded_at,
         outcome_notified_at = n.outcome_notified_at
       FROM approval_notices n WHERE n.request_id = r.request_id`,
    );
    await queryRunner.query('DROP TABLE "approval_notices"');
  }
}
