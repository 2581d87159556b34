import { describe, expect, it } from '@jest/globals';
import type { ChainedRecord } from '../audit-chain.js';
import { escapeCefHeader, escapeCefValue, formatCef } from './cef-format.js';
import { octetCountedAll, syslogMessage } from './syslog-message.js';

const record = (over: Partial<ChainedRecord> = {}): ChainedRecord => ({
  seq: 42,
  recordedAt: new Date('2026-12-07T10:00:00.000Z'),
  eventType: 'decision.asked',
  actorType: 'device',
  actorId: 'ct-1',
  deviceId: 'ct-1',
  action: 'remote-session',
  remoteUser: 'jdoe@acme.example',
  outcome: 'deny',
  ruleIds: ['r1', 'r2'],
  policyVersion: 'v7',
  approvers: [],
  sourceAddress: '10.0.0.5',
  requestId: 'req-1',
  details: {},
  prevHash: 'a'.repeat(64),
  hash: 'b'.repeat(64),
  ...over,
});

describe('CEF', () => {
  it('escapes what would end a header field or an extension value early', () => {
    expect(escapeCefHeader('a|b\\c\nd')).toBe('a\\|b\\\\c d');
    expect(escapeCefValue('x=1\\2\r\n|')).toBe('x\\=1\\\\2\\r\\n|');
  });

  it('writes a record with its chain fields; hostile values cannot forge a field', () => {
    const line = formatCef({
      kind: 'record',
      record: record({ remoteUser: 'eve cs1=forged\nact=allow', details: { note: 'a=b' } }),
    });
    expect(line).toBe(
      'CEF:0|Gatehouse|Gatehouse|1|decision.asked|decision.asked|5|rt=1796637600000 externalId=42 ' +
        `cn1Label=seq cn1=42 cs1Label=prevHash cs1=${'a'.repeat(64)} cs2Label=hash cs2=${'b'.repeat(64)} ` +
        'cs3Label=requestId cs3=req-1 cs4Label=ruleIds cs4=r1,r2 cs5Label=policyVersion cs5=v7 ' +
        'cs6Label=deviceId cs6=ct-1 suser=device:ct-1 duser=eve cs1\\=forged\\nact\\=allow act=remote-session ' +
        'outcome=deny src=10.0.0.5 msg={"note":"a\\=b"}',
    );
  });
});

describe('syslog (RFC 5424, octet counting)', () => {
  it('frames by byte length, not character count, one message after another', () => {
    expect(octetCountedAll(['é', 'ab', '€']).toString('utf8')).toBe('2 é2 ab3 €');
  });

  it('puts seq and prevHash in the structured data, escaped', () => {
    const message = syslogMessage({ kind: 'record', record: record({ eventType: 'weird type]' }) }, 'json');
    expect(message).toMatch(
      new RegExp(
        `^<110>1 2026-12-07T10:00:00.000Z \\S+ gatehouse ${process.pid} weird_type] ` +
          `\\[gatehouse@32473 seq="42" prevHash="${'a'.repeat(64)}" hash="${'b'.repeat(64)}"\\] \\{`,
      ),
    );
    expect(JSON.parse(message.slice(message.indexOf('] {') + 2))).toMatchObject({ seq: 42, eventType: 'weird type]' });
  });
});
