import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A device enrolled with a scoped token (one naming device groups) stays inside those
 * groups, whatever model or site it claims: group_scope holds them (NULL: no bound).
 * Devices already enrolled with a scoped token get its groups as their bound.
 */
export class DeviceGroupScope1796610000000 implements MigrationInterface {
  name = 'DeviceGroupScope1796610000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "devices" ADD "group_scope" text array');
    await queryRunner.query(
      `UPDATE devices d SET group_scope = t.device_groups FROM enrollment_tokens t
       WHERE d.enrollment_token_id = t.id AND cardinality(t.device_groups) > 0`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "devices" DROP COLUMN "group_scope"');
  }
}
