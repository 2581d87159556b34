import { describe, expect, it } from '@jest/globals';
import { counted } from './plural.js';

describe('counted', () => {
  it('says one thing in the singular and every other count in the plural', () => {
    expect(counted(1, 'live access', 'live accesses')).toBe('1 live access');
    expect(counted(0, 'live access', 'live accesses')).toBe('0 live accesses');
    expect(counted(2, 'record', 'records')).toBe('2 records');
  });
});
