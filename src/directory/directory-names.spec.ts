import { describe, expect, it } from '@jest/globals';
import { ldapFilterProblem, normalizeDn, normalizeGroupRef } from './ldap-filter.js';
import { parseLoginName } from './login-name.js';
import { effectiveGroups } from './membership.js';
import { guidToString } from './directory-model.js';

describe('sign-in names', () => {
  it('accepts user, user@domain and DOMAIN\\user, lower-cased', () => {
    expect(parseLoginName(' Ann ')).toEqual({ form: 'plain', account: 'ann' });
    expect(parseLoginName('Ann@Hosp.Test')).toEqual({
      form: 'upn',
      upn: 'ann@hosp.test',
      account: 'ann',
      suffix: 'hosp.test',
    });
    expect(parseLoginName('HOSP\\Ann')).toEqual({ form: 'down-level', domain: 'hosp', account: 'ann' });
    expect(parseLoginName('o(b)#1')).toEqual({ form: 'plain', account: 'o(b)#1' });
    expect(parseLoginName('józef')).toEqual({ form: 'plain', account: 'józef' });
  });

  it('refuses names no account can have: filter syntax, wildcards, DN syntax, control characters', () => {
    for (const name of [
      '',
      '   ',
      '*',
      'ann*',
      'ann)(|(objectClass=*',
      'cn=ann,dc=hosp',
      'HOSP\\*',
      'a\\b\\c',
      'ann\u0000',
      'x'.repeat(300),
      '@hosp.test',
      'ann@',
      'HOSP\\',
    ]) {
      expect({ name, parsed: parseLoginName(name) }).toEqual({ name, parsed: undefined });
    }
  });
});

describe('distinguished names and group references', () => {
  it('compares DNs whatever the case, spacing and escaping', () => {
    const a = normalizeDn('CN=Top (1) \\#x,OU=Groups, DC=hosp,DC=test');
    expect(normalizeDn('cn=top (1) #x, ou=groups,dc=HOSP,dc=test')).toBe(a);
    expect(normalizeDn('CN=Top (1) \\23x,OU=Groups,DC=hosp,DC=test')).toBe(a);
    expect(normalizeDn('CN=Smith\\, John,OU=People,DC=hosp')).toBe('cn=smith\\, john,ou=people,dc=hosp');
    expect(normalizeDn('CN=Smith\\, John,OU=People,DC=hosp')).not.toBe(
      normalizeDn('CN=Smith,CN=John,OU=People,DC=hosp'),
    );
    expect(normalizeDn('CN=J\\C3\\B3zef,DC=hosp')).toBe(normalizeDn('CN=Józef,DC=hosp'));
  });

  it('tells DNs from names', () => {
    expect(normalizeGroupRef('Biomed-Approvers')).toBe('biomed-approvers');
    expect(normalizeGroupRef('CN=Biomed Approvers,OU=Groups,DC=hosp')).toBe('cn=biomed approvers,ou=groups,dc=hosp');
  });

  it('checks administrator-written filters', () => {
    expect(ldapFilterProblem('(department=Radiology)')).toBeUndefined();
    expect(ldapFilterProblem('department=Radiology')).toMatch(/in parentheses/);
    expect(ldapFilterProblem('(a=b)(c=d)')).toMatch(/invalid LDAP filter/);
    expect(ldapFilterProblem('(a~b)')).toMatch(/invalid LDAP filter/);
  });

  it("turns AD's objectGUID bytes into the usual text form", () => {
    const bytes = Buffer.from('7856341234123412abcdef0123456789', 'hex');
    expect(guidToString(bytes)).toBe('12345678-1234-1234-abcd-ef0123456789');
  });
});

describe('nested membership', () => {
  it('resolves nesting transitively and terminates on cycles', () => {
    const directMembers = new Map([
      ['leaf', ['u1', 'top']],
      ['mid', ['leaf']],
      ['top', ['mid']],
      ['other', ['u2']],
    ]);
    const groups = effectiveGroups({ directMembers }, ['u1', 'u2', 'u3']);
    expect([...groups.get('u1')!].sort()).toEqual(['leaf', 'mid', 'top']);
    expect([...groups.get('u2')!]).toEqual(['other']);
    expect([...groups.get('u3')!]).toEqual([]);
  });
});
