/** How a person typed their directory sign-in name. */
export type LoginName =
  | { form: 'plain'; account: string }
  | { form: 'upn'; upn: string; account: string; suffix: string }
  | { form: 'down-level'; domain: string; account: string };

/**
 * Characters that never occur in a sAMAccountName or UPN (AD refuses them), plus LDAP filter
 * meta-characters. A name containing one cannot belong to an account, so it is refused before
 * the directory is asked anything. (Nothing typed at sign-in is ever put into a filter or DN
 * anyway: the account is found in the synced copy and bound by its stored DN.)
 */
// eslint-disable-next-line no-control-regex -- control characters are among what is refused
const FORBIDDEN = /["/[\]:;|=,+*?<>\\\u0000-\u001f]/;

/** Parses `user`, `user@domain` or `DOMAIN\user`; undefined when it cannot be a directory account name. */
export function parseLoginName(input: string): LoginName | undefined {
  const name = input.trim();
  if (name.length === 0 || name.length > 256) return undefined;
  const backslash = name.indexOf('\\');
  if (backslash >= 0) {
    const domain = name.slice(0, backslash);
    const account = name.slice(backslash + 1);
    if (!/^[A-Za-z0-9][A-Za-z0-9.-]{0,63}$/.test(domain) || !validAccount(account)) return undefined;
    return { form: 'down-level', domain: domain.toLowerCase(), account: account.toLowerCase() };
  }
  const at = name.lastIndexOf('@');
  if (at >= 0) {
    const account = name.slice(0, at);
    const suffix = name.slice(at + 1);
    if (!/^[A-Za-z0-9.-]{1,253}$/.test(suffix) || !validAccount(account)) return undefined;
    return { form: 'upn', upn: name.toLowerCase(), account: account.toLowerCase(), suffix: suffix.toLowerCase() };
  }
  return validAccount(name) ? { form: 'plain', account: name.toLowerCase() } : undefined;
}

function validAccount(account: string): boolean {
  return account.length > 0 && account.length <= 104 && !FORBIDDEN.test(account) && account.trim() === account;
}
