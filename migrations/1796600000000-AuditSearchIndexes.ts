import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Indexes for the auditors' search (GET /api/v1/audit) and a request's story, chosen from
 * their queries (src/audit/audit-filters.ts): each filter column paired with seq, so a
 * filtered first page, newest or oldest first, reads a few index entries rather than the
 * table (bench:audit --search measures it). Partial where the column is often empty, to keep
 * the decision commit's index inserts down. The JSON paths: enterprise and ticket as
 * decisions record them in details, and grantedByRequest, which names the repeats under a grant.
 */
export class AuditSearchIndexes1796600000000 implements MigrationInterface {
  name = 'AuditSearchIndexes1796600000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const index = (name: string, on: string, where?: string) =>
      queryRunner.query(`CREATE INDEX "${name}" ON "audit_records" ${on}${where ? ` WHERE ${where}` : ''}`);
    await index('idx_audit_records_device_id', '("device_id", "seq")', 'device_id IS NOT NULL');
    await index('idx_audit_records_remote_user', '("remote_user", "seq")', 'remote_user IS NOT NULL');
    await index('idx_audit_records_actor_id', '("actor_id", "seq")', 'actor_id IS NOT NULL');
    await index('idx_audit_records_outcome', '("outcome", "seq")', 'outcome IS NOT NULL');
    await index('idx_audit_records_recorded_at', '("recorded_at")');
    await index('idx_audit_records_rule_ids', 'USING gin ("rule_ids")');
    await index(
      'idx_audit_records_enterprise',
      "((details->>'enterprise'), seq)",
      "(details->>'enterprise') IS NOT NULL",
    );
    await index(
      'idx_audit_records_ticket',
      "((details->'context'->>'ticket'), seq)",
      "(details->'context'->>'ticket') IS NOT NULL",
    );
    await index(
      'idx_audit_records_granted_by',
      "((details->>'grantedByRequest'))",
      "(details->>'grantedByRequest') IS NOT NULL",
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const name of ['granted_by', 'ticket', 'enterprise', 'rule_ids', 'recorded_at', 'outcome', 'actor_id']) {
      await queryRunner.query(`DROP INDEX "public"."idx_audit_records_${name}"`);
    }
    await queryRunner.query('DROP INDEX "public"."idx_audit_records_remote_user"');
    await queryRunner.query('DROP INDEX "public"."idx_audit_records_device_id"');
  }
}
