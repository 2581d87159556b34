import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Directory1795457126557 implements MigrationInterface {
  name = 'Directory1795457126557';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE "directory_groups" ("group_id" uuid NOT NULL, "guid" uuid NOT NULL, "dn" text NOT NULL, "cn" text NOT NULL, "member_guids" uuid array NOT NULL DEFAULT \'{}\', "usn_changed" bigint NOT NULL DEFAULT \'0\', CONSTRAINT "UQ_9c2c211ab1e2ef64d255203e14d" UNIQUE ("guid"), CONSTRAINT "PK_e4fba85afc91cff682555e5414c" PRIMARY KEY ("group_id"))',
    );
    await queryRunner.query(
      'CREATE TABLE "directory_users" ("user_id" uuid NOT NULL, "guid" uuid NOT NULL, "dn" text NOT NULL, "upn" text, "mail" text, "directory_disabled" boolean NOT NULL DEFAULT false, "usn_changed" bigint NOT NULL DEFAULT \'0\', "removed_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "UQ_e50cfe4a70f0a200879b8fef9e2" UNIQUE ("guid"), CONSTRAINT "PK_bba66623eb1ba8fecb300cf6d7d" PRIMARY KEY ("user_id"))',
    );
    await queryRunner.query('CREATE INDEX "IDX_de3f240f21a72ed731cf72e53a" ON "directory_users"  ("upn") ');
    await queryRunner.query('ALTER TABLE "groups" ADD "aliases" text array NOT NULL DEFAULT \'{}\'');
    await queryRunner.query(
      'ALTER TABLE "directory_groups" ADD CONSTRAINT "FK_e4fba85afc91cff682555e5414c" FOREIGN KEY ("group_id") REFERENCES "groups"("id") ON DELETE CASCADE ON UPDATE NO ACTION',
    );
    await queryRunner.query(
      'ALTER TABLE "directory_users" ADD CONSTRAINT "FK_bba66623eb1ba8fecb300cf6d7d" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "directory_users" DROP CONSTRAINT "FK_bba66623eb1ba8fecb300cf6d7d"');
    await queryRunner.query('ALTER TABLE "directory_groups" DROP CONSTRAINT "FK_e4fba85afc91cff682555e5414c"');
    await queryRunner.query('ALTER TABLE "groups" DROP COLUMN "aliases"');
    await queryRunner.query('DROP INDEX "public"."IDX_de3f240f21a72ed731cf72e53a"');
    await queryRunner.query('DROP TABLE "directory_users"');
    await queryRunner.query('DROP TABLE "directory_groups"');
  }
}
