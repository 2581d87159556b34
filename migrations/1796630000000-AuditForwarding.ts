import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * SIEM forwarding (src/audit/forwarding): each receiver's cursor, kept in the database so that
 * a receiver that was down, or a restart, gets the backlog from where it stopped, and so that
 * every replica reports the same lag and error.
 */
export class AuditForwarding1796630000000 implements MigrationInterface {
  name = 'AuditForwarding1796630000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE "audit_forward_cursors" ("receiver" text NOT NULL, "last_seq" bigint NOT NULL DEFAULT \'0\', "last_checkpoint_seq" bigint NOT NULL DEFAULT \'0\', "last_forwarded_at" TIMESTAMP WITH TIME ZONE, "last_error" text, "last_error_at" TIMESTAMP WITH TIME ZONE, "failing_since" TIMESTAMP WITH TIME ZONE, "alerted" boolean NOT NULL DEFAULT false, CONSTRAINT "PK_599879b2684613ff269623902ef" PRIMARY KEY ("receiver"))',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE "audit_forward_cursors"');
  }
}
