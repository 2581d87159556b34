import type { MigrationInterface, QueryRunner } from 'typeorm';

export class ConsoleRules1795451459051 implements MigrationInterface {
  name = 'ConsoleRules1795451459051';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE "console_rules" ("id" text NOT NULL, "rule" jsonb NOT NULL, "created_by" text NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL, "updated_by" text NOT NULL, "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_db5a9cb094cfeb9b4f7a58e3c24" PRIMARY KEY ("id"))',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE "console_rules"');
  }
}
