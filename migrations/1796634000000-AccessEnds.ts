import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * "End now" (issue 14): who ended which live access, when and why, kept so that every
 * replica and every restart lists it to the device's agent until the agent confirms, and
 * refuses repeats under an ended grant until the grant would have expired.
 */
export class AccessEnds1796634000000 implements MigrationInterface {
  name = 'AccessEnds1796634000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "access_ends" (
        "request_id" uuid NOT NULL,
        "device_id" text NOT NULL,
        "reason" text NOT NULL,
        "ended_by" text NOT NULL,
        "ended_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "scope" text NOT NULL,
        "list_until" TIMESTAMP WITH TIME ZONE,
        "confirmed_at" TIMESTAMP WITH TIME ZONE,
        "grant_id" uuid,
        "grant_action" text,
        "grant_remote_user_id" text,
        "grant_target_key" text,
        "grant_expires_at" TIMESTAMP WITH TIME ZONE,
        CONSTRAINT "PK_access_ends" PRIMARY KEY ("request_id")
      )`,
    );
    await queryRunner.query(
      `CREATE INDEX "idx_access_ends_unconfirmed" ON "access_ends" ("device_id", "list_until") WHERE confirmed_at IS NULL`,
    );
    await queryRunner.query(
      `CREATE INDEX "idx_access_ends_grant" ON "access_ends" ("device_id", "grant_action", "grant_remote_user_id", "grant_target_key") WHERE grant_id IS NOT NULL`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE "access_ends"');
  }
}
