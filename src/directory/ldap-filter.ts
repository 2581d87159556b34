import { FilterParser } from 'ldapts';

/** Why an administrator-written LDAP filter (LDAP_USER_FILTER, LDAP_GROUP_FILTER) is unusable, if it is. */
export function ldapFilterProblem(filter: string): string | undefined {
  if (!filter.startsWith('(') || !filter.endsWith(')'))
    return "expected an LDAP filter in parentheses, e.g. '(department=Radiology)'";
  try {
    FilterParser.parseString(filter);
    return undefined;
  } catch (error) {
    return `invalid LDAP filter: ${(error as Error).message}`;
  }
}

/**
 * A distinguished name in one canonical spelling for comparisons: attribute types and values
 * lower-cased, no spaces around separators, escapes resolved (`\#`, `\23` and `#` alike, as
 * directories differ in what they escape) and re-escaped minimally.
 */
export function normalizeDn(dn: string): string {
  const rdns: string[] = [];
  let type = '';
  let bytes: number[] = [];
  let inValue = false;
  const flush = () => {
    const value = Buffer.from(bytes)
      .toString('utf8')
      .trim()
      .toLowerCase()
      .replace(/[\\,+"<>;=]/g, (c) => `\\${c}`);
    rdns.push(inValue ? `${type.trim().toLowerCase()}=${value}` : value);
    type = '';
    bytes = [];
    inValue = false;
  };
  for (let i = 0; i < dn.length; i++) {
    const ch = dn[i];
    if (!inValue) {
      if (ch === '=') inValue = true;
      else if (ch === ',' || ch === ';') flush();
      else type += ch;
    } else if (ch === '\\' && i + 1 < dn.length) {
      const hex = dn.slice(i + 1, i + 3);
      if (/^[0-9a-fA-F]{2}$/.test(hex)) {
        bytes.push(parseInt(hex, 16));
        i += 2;
      } else {
        bytes.push(...Buffer.from(dn[i + 1], 'utf8'));
        i += 1;
      }
    } else if (ch === ',' || ch === ';') {
      flush();
    } else {
      bytes.push(...Buffer.from(ch, 'utf8'));
    }
  }
  flush();
  return rdns.join(',');
}

/** Whether a policy file's group reference is written as a DN (CN=…,OU=…) rather than a name. */
export const looksLikeDn = (ref: string): boolean => /^[A-Za-z][A-Za-z0-9-]*=.+,\s*[A-Za-z][A-Za-z0-9-]*=/.test(ref);

/** The one spelling a group reference (name, CN or DN) is compared in. */
export const normalizeGroupRef = (ref: string): string =>
  looksLikeDn(ref) ? normalizeDn(ref) : ref.trim().toLowerCase();
