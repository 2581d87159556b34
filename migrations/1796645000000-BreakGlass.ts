import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Break-glass (issue 14): who allowed a waiting request alone, why, and the review another
 * approver owes it. A row whose reviewed_at is empty is "needs review".
 */
export class BreakGlass1796645000000 implements MigrationInterface {
  name = 'BreakGlass1796645000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "break_glass_uses" (
        "request_id" uuid NOT NULL,
        "user_id" uuid NOT NULL,
        "username" text NOT NULL,
        "reason" text NOT NULL,
        "grant_minutes" integer,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "review_verdict" text,
        "review_comment" text,
        "reviewed_by_id" uuid,
        "reviewed_by" text,
        "reviewed_at" TIMESTAMP WITH TIME ZONE,
        CONSTRAINT "PK_break_glass_uses" PRIMARY KEY ("request_id")
      )`,
    );
    await queryRunner.query(
      `CREATE INDEX "idx_break_glass_uses_unreviewed" ON "break_glass_uses" ("created_at") WHERE reviewed_at IS NULL`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE "break_glass_uses"');
  }
}
