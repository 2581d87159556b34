import type { MigrationInterface, QueryRunner } from 'typeorm';

export class PolicyVersions1795449739869 implements MigrationInterface {
  name = 'PolicyVersions1795449739869';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE "policy_versions" ("version" text NOT NULL, "first_loaded_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "content" jsonb NOT NULL, CONSTRAINT "PK_7a060de346f362615cf54097d82" PRIMARY KEY ("version"))',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE "policy_versions"');
  }
}
