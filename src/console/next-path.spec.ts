import { describe, expect, it } from '@jest/globals';
import { safeNextPath, signInPath } from './next-path.js';

describe('safeNextPath', () => {
  it('keeps paths of this site, with their query', () => {
    expect(safeNextPath('/approvals/6f1c?from=mail')).toBe('/approvals/6f1c?from=mail');
    expect(safeNextPath('/')).toBe('/');
  });

  it.each([
    '//evil.example/x',
    '/\\evil.example',
    'https://evil.example/',
    'javascript:alert(1)',
    'approvals',
    '/approvals\r\nSet-Cookie: x=1',
    '/a\tb',
    '/sign-in?next=/x',
    '/sign-out',
    '/setup',
    '/' + 'a'.repeat(600),
    '',
  ])('refuses %j', (value) => {
    expect(safeNextPath(value)).toBeNull();
  });

  it('refuses what is not a string', () => {
    expect(safeNextPath(['/a'])).toBeNull();
    expect(safeNextPath(undefined)).toBeNull();
  });

  it('builds the sign-in link with next encoded', () => {
    expect(signInPath('/approvals/x?y=1')).toBe('/sign-in?next=%2Fapprovals%2Fx%3Fy%3D1');
    expect(signInPath(null)).toBe('/sign-in');
  });
});
