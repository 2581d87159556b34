/**
 * Test support for the directory tests: each test file works in its own OU of the one Samba DC
 * (test/support/samba-dc.ts) and points Gatehouse's LDAP_BASE_DN at it, so files running in
 * parallel never see each other's users. Accounts are added over LDAPS without a password
 * (≈6 ms each) except the few that sign in (≈23 ms each, the DC hashes the password).
 */
import { randomBytes } from 'node:crypto';
import { Attribute, Change, Client } from 'ldapts';
import { api } from './test-app.js';
import { connectAsAdmin, readSambaInfo, type SambaDc } from './samba-dc.js';

export const UAC_ENABLED_NO_PASSWORD = 0x200 | 0x20; // NORMAL_ACCOUNT | PASSWD_NOTREQD
export const UAC_ENABLED = 0x200;
export const UAC_DISABLED = 0x200 | 0x2;

export async function sambaDc(): Promise<SambaDc> {
  const file = process.env.GATEHOUSE_TEST_SAMBA_INFO;
  if (!file) {
    throw new Error(
      'GATEHOUSE_TEST_SAMBA_INFO is not set: the Samba DC is started by the Jest globalSetup - run these tests ' +
        'with `npm test` and without GATEHOUSE_TEST_DIRECTORY=off',
    );
  }
  return readSambaInfo(file);
}

/** Escapes a value for use in an RDN (RFC 4514). */
export function rdnValue(value: string): string {
  return value
    .replace(/[\\,+"<>;=]/g, (c) => `\\${c}`)
    .replace(/^[ #]/, (c) => `\\${c}`)
    .replace(/ $/, '\\ ');
}

export interface TestUser {
  sam: string;
  cn?: string;
  displayName?: string;
  upn?: string;
  mail?: string;
  disabled?: boolean;
  password?: string;
}

/** One test file's corner of the directory. */
export class DirectoryArea {
  private constructor(
    readonly dc: SambaDc,
    readonly client: Client,
    readonly dn: string,
  ) {}

  static async create(label: string): Promise<DirectoryArea> {
    const dc = await sambaDc();
    const client = await connectAsAdmin(dc);
    const dn = `OU=gh-${label}-${randomBytes(3).toString('hex')},${dc.baseDn}`;
    await client.add(dn, { objectClass: ['top', 'organizationalUnit'] });
    return new DirectoryArea(dc, client, dn);
  }

  /** Gatehouse's LDAP_* settings for this area: LDAPS, certificate checked against Samba's CA and name. */
  env(extra: Record<string, string> = {}): Record<string, string> {
    return {
      LDAP_URL: this.dc.ldapsUrl,
      LDAP_BIND_DN: this.dc.adminDn,
      LDAP_BIND_PASSWORD: this.dc.adminPassword,
      LDAP_BASE_DN: this.dn,
      LDAP_CA_FILE: this.dc.caFile,
      LDAP_TLS_SERVERNAME: this.dc.serverName,
      LDAP_FULL_SYNC_MINUTES: '0',
      LDAP_INCREMENTAL_SYNC_MINUTES: '0',
      // Generous: a TLS handshake with Samba takes seconds when CI runs three test files at once.
      LDAP_CONNECT_TIMEOUT_MS: '10000',
      LDAP_TIMEOUT_MS: '10000',
      ...extra,
    };
  }

  async ou(name: string, parent = this.dn): Promise<string> {
    const dn = `OU=${rdnValue(name)},${parent}`;
    await this.client.add(dn, { objectClass: ['top', 'organizationalUnit'] });
    return dn;
  }

  async addUser(user: TestUser, parent = this.dn): Promise<string> {
    const cn = user.cn ?? user.sam;
    const dn = `CN=${rdnValue(cn)},${parent}`;
    const attributes: Attribute[] = [
      new Attribute({ type: 'objectClass', values: ['top', 'person', 'organizationalPerson', 'user'] }),
      new Attribute({ type: 'sAMAccountName', values: [user.sam] }),
      new Attribute({ type: 'displayName', values: [user.displayName ?? cn] }),
    ];
    if (user.upn) attributes.push(new Attribute({ type: 'userPrincipalName', values: [user.upn] }));
    if (user.mail) attributes.push(new Attribute({ type: 'mail', values: [user.mail] }));
    if (user.password) {
      attributes.push(new Attribute({ type: 'unicodePwd', values: [Buffer.from(`"${user.password}"`, 'utf16le')] }));
    }
    const uac = user.disabled ? UAC_DISABLED : user.password ? UAC_ENABLED : UAC_ENABLED_NO_PASSWORD;
    attributes.push(new Attribute({ type: 'userAccountControl', values: [String(uac)] }));
    await this.client.add(dn, attributes);
    return dn;
  }

  async addGroup(name: string, members: string[] = [], parent = this.dn, cn = name): Promise<string> {
    const dn = `CN=${rdnValue(cn)},${parent}`;
    await this.client.add(dn, {
      objectClass: ['top', 'group'],
      sAMAccountName: name,
      ...(members.length > 0 ? { member: members } : {}),
    });
    return dn;
  }

  async addMembers(groupDn: string, members: string[]): Promise<void> {
    await this.client.modify(
      groupDn,
      new Change({ operation: 'add', modification: new Attribute({ type: 'member', values: members }) }),
    );
  }

  async removeMembers(groupDn: string, members: string[]): Promise<void> {
    await this.client.modify(
      groupDn,
      new Change({ operation: 'delete', modification: new Attribute({ type: 'member', values: members }) }),
    );
  }

  async replace(dn: string, type: string, values: string[]): Promise<void> {
    await this.client.modify(dn, new Change({ operation: 'replace', modification: new Attribute({ type, values }) }));
  }

  async attribute(dn: string, name: string): Promise<string | undefined> {
    const { searchEntries } = await this.client.search(dn, { scope: 'base', attributes: [name] });
    const value = searchEntries[0]?.[name];
    return value === undefined ? undefined : String(Array.isArray(value) ? value[0] : value);
  }

  /** Removes the area (subtree delete) and closes the admin connection. */
  async dispose(): Promise<void> {
    const { Control } = await import('ldapts');
    await this.client.del(this.dn, new Control('1.2.840.113556.1.4.805')).catch(() => undefined);
    await this.client.unbind().catch(() => undefined);
  }
}

/** Starts a sync through the API and waits for its result (the sync runs in the background). */
export async function syncAndWait(
  baseUrl: string,
  token: string,
  kind: 'full' | 'incremental' = 'incremental',
  timeoutMs = 120_000,
): Promise<any> {
  const before = (await api(baseUrl, 'GET', '/api/v1/directory/status', { token })).body?.lastRun?.finishedAt ?? null;
  const started = await api(baseUrl, 'POST', '/api/v1/directory/sync', { token, body: { kind } });
  if (started.status !== 202) throw new Error(`sync did not start: ${started.status} ${JSON.stringify(started.body)}`);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await api(baseUrl, 'GET', '/api/v1/directory/status', { token });
    const last = status.body.lastRun;
    if (!status.body.running && last && last.finishedAt !== before) return status.body;
    if (Date.now() > deadline) throw new Error(`sync did not finish: ${JSON.stringify(status.body)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Runs `fn` over `items` with up to `inFlight` requests outstanding on the one admin connection:
 * the DC still writes one at a time, but the round trips overlap.
 */
export async function pipelined<T, R>(
  items: T[],
  fn: (item: T, index: number) => Promise<R>,
  inFlight = 32,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, items.length) }, worker));
  return results;
}
