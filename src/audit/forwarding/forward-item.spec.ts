import { describe, expect, it } from '@jest/globals';
import { fromRow, type AuditRow } from '../audit-row.js';
import { fromWire } from './forward-item.js';

describe('fromWire', () => {
  it("reads a row as PostgreSQL's to_json writes it into the record the pg driver's row gives", () => {
    const row: AuditRow = {
      seq: '9007199254740',
      recorded_at: new Date('2026-12-07T21:30:00.123Z'),
      event_type: 'decision',
      actor_type: 'device',
      actor_id: 'ct-1',
      device_id: 'ct-1',
      action: 'install',
      remote_user: 'eve@vendor.example',
      outcome: 'allow',
      rule_ids: ['r1', 'r2'],
      policy_version: 'v7',
      approvers: [],
      source_address: '10.0.0.5',
      request_id: null,
      details: { package: { sha256: 'ab' }, note: 'é "quoted"' },
      prev_hash: 'a'.repeat(64),
      hash: 'b'.repeat(64),
    };
    // to_json: bigint as a number, timestamptz with microseconds and the session's offset.
    const json = JSON.stringify({ ...row, seq: 9007199254740, recorded_at: '2026-12-07T22:30:00.123456+01:00' });
    expect(fromWire({ kind: 'record', row: json })).toEqual({ kind: 'record', record: fromRow(row) });
  });
});
