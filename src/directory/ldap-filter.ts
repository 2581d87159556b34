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
 * lower-cased, no spaces around the separators. Escaped commas stay part of their value.
 */
export function normalizeDn(dn: string): string {
  const rdns: string[] = [];
  let current = '';
  for (let i = 0; i < dn.length; i++) {
    const ch = dn[i];
    if (ch === '\\' && i + 1 < dn.length) {
      current += ch + dn[i + 1];
      i++;
    } else if (ch === ',' || ch === ';') {
      rdns.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  rdns.push(current);
  return rdns
    .map((rdn) => {
      const eq = rdn.indexOf('=');
      if (eq < 0) return rdn.trim().toLowerCase();
      return `${rdn.slice(0, eq).trim()}=${rdn.slice(eq + 1).trim()}`.toLowerCase();
    })
    .join(',');
}

/** Whether a policy file's group reference is written as a DN (CN=…,OU=…) rather than a name. */
export const looksLikeDn = (ref: string): boolean => /^[A-Za-z][A-Za-z0-9-]*=.+,\s*[A-Za-z][A-Za-z0-9-]*=/.test(ref);

/** The one spelling a group reference (name, CN or DN) is compared in. */
export const normalizeGroupRef = (ref: string): string =>
  looksLikeDn(ref) ? normalizeDn(ref) : ref.trim().toLowerCase();
