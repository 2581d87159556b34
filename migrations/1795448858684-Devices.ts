import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Devices1795448858684 implements MigrationInterface {
  name = 'Devices1795448858684';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE "devices" ("id" text NOT NULL, "model" text NOT NULL, "serial_number" text, "site" text, "agent_version" text, "actions" text array NOT NULL DEFAULT \'{}\', "credential_hash" text NOT NULL, "assigned_groups" text array NOT NULL DEFAULT \'{}\', "enrollment_token_id" uuid, "enrolled_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "last_seen_at" TIMESTAMP WITH TIME ZONE, "state" jsonb, "state_reported_at" TIMESTAMP WITH TIME ZONE, "revoked_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_b1514758245c12daf43486dd1f0" PRIMARY KEY ("id"))',
    );
    await queryRunner.query('CREATE UNIQUE INDEX "idx_devices_credential_hash" ON "devices"  ("credential_hash") ');
    await queryRunner.query(
      'CREATE TABLE "enrollment_tokens" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "token_hash" text NOT NULL, "device_groups" text array NOT NULL DEFAULT \'{}\', "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, "max_uses" integer NOT NULL, "uses" integer NOT NULL DEFAULT \'0\', "created_by" text NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "revoked_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_d9b043a74d8643fde7e6b948591" PRIMARY KEY ("id"))',
    );
    await queryRunner.query('CREATE UNIQUE INDEX "idx_enrollment_tokens_hash" ON "enrollment_tokens"  ("token_hash") ');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX "public"."idx_enrollment_tokens_hash"');
    await queryRunner.query('DROP TABLE "enrollment_tokens"');
    await queryRunner.query('DROP INDEX "public"."idx_devices_credential_hash"');
    await queryRunner.query('DROP TABLE "devices"');
  }
}
