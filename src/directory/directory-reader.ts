import { Control, ResultCodeError, SizeLimitExceededError, type Client, type Entry } from 'ldapts';
import type { DirectorySettings } from './directory-settings.js';
import { classifyDirectoryError, DirectoryError, DirectoryErrorCode } from './directory.errors.js';
import { guidToString, type DirectoryGroup, type DirectoryUser } from './directory-model.js';
import { normalizeDn } from './ldap-filter.js';

const ACCOUNTDISABLE = 0x2;
/** LDAP_SERVER_SHOW_DELETED_OID: include tombstones of deleted objects. */
const SHOW_DELETED_OID = '1.2.840.113556.1.4.417';
const USER_CLASS = '(&(objectCategory=person)(objectClass=user))';
const GROUP_CLASS = '(objectClass=group)';
const USER_ATTRIBUTES = [
  'objectGUID',
  'sAMAccountName',
  'userPrincipalName',
  'displayName',
  'cn',
  'mail',
  'userAccountControl',
  'uSNChanged',
];
const GROUP_ATTRIBUTES = ['objectGUID', 'sAMAccountName', 'cn', 'description', 'member', 'uSNChanged'];

export interface RootDse {
  server: string;
  highestUsn: number;
  defaultNamingContext: string;
  configurationNamingContext: string;
}

/** A group as read, before its member DNs are turned into GUIDs. */
export type RawGroup = Omit<DirectoryGroup, 'memberGuids'> & { memberDns: string[] };

const one = (entry: Entry, name: string): string | undefined => {
  const value = entry[name];
  const first = Array.isArray(value) ? value[0] : value;
  if (first === undefined) return undefined;
  return Buffer.isBuffer(first) ? first.toString('utf8') : first;
};
const many = (entry: Entry, name: string): string[] => {
  const value = entry[name];
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).map((v) => (Buffer.isBuffer(v) ? v.toString('utf8') : v));
};
const guidOf = (entry: Entry): string => {
  const value = entry.objectGUID;
  const bytes = Array.isArray(value) ? value[0] : value;
  if (!Buffer.isBuffer(bytes)) throw new Error(`${entry.dn} has no objectGUID`);
  return guidToString(bytes);
};

/** Reads the directory for a sync, through one service connection. Every failure is a DirectoryError. */
export class DirectoryReader {
  constructor(
    private readonly client: Client,
    private readonly settings: DirectorySettings,
  ) {}

  async rootDse(): Promise<RootDse> {
    const entry = await this.searchOne('', 'base', '(objectClass=*)', [
      'dsServiceName',
      'highestCommittedUSN',
      'defaultNamingContext',
      'configurationNamingContext',
    ]);
    return {
      server: one(entry, 'dsServiceName') ?? '',
      highestUsn: Number(one(entry, 'highestCommittedUSN') ?? 0),
      defaultNamingContext: one(entry, 'defaultNamingContext') ?? '',
      configurationNamingContext: one(entry, 'configurationNamingContext') ?? '',
    };
  }

  /** The NetBIOS and DNS domain names (for DOMAIN\user and user@domain), and the AD lockout threshold. */
  async domainInfo(
    root: RootDse,
  ): Promise<{ netbios: string | null; dns: string | null; lockoutThreshold: number | null }> {
    const dns = root.defaultNamingContext
      .split(',')
      .filter((rdn) => /^dc=/i.test(rdn.trim()))
      .map((rdn) => rdn.trim().slice(3))
      .join('.');
    let netbios: string | null;
    let lockoutThreshold: number | null;
    // Best effort: a service account may not read the configuration partition or the domain object.
    try {
      const { searchEntries } = await this.client.search(`CN=Partitions,${root.configurationNamingContext}`, {
        scope: 'one',
        filter: `(&(objectClass=crossRef)(nETBIOSName=*))`,
        attributes: ['nETBIOSName', 'nCName'],
      });
      const mine = searchEntries.find(
        (e) => normalizeDn(one(e, 'nCName') ?? '') === normalizeDn(root.defaultNamingContext),
      );
      netbios = mine ? (one(mine, 'nETBIOSName') ?? null) : null;
    } catch {
      netbios = null;
    }
    try {
      const domain = await this.searchOne(root.defaultNamingContext, 'base', '(objectClass=*)', ['lockoutThreshold']);
      const value = one(domain, 'lockoutThreshold');
      lockoutThreshold = value === undefined ? null : Number(value);
    } catch {
      lockoutThreshold = null;
    }
    return { netbios: netbios?.toLowerCase() ?? null, dns: dns ? dns.toLowerCase() : null, lockoutThreshold };
  }

  /** Users in scope, optionally only those changed since a USN; `onPage` reports progress. */
  async users(sinceUsn: number | null, onPage: (count: number) => void): Promise<DirectoryUser[]> {
    const users: DirectoryUser[] = [];
    const filter = `(&${USER_CLASS}${this.settings.userFilter}${sinceUsn === null ? '' : `(uSNChanged>=${sinceUsn + 1})`})`;
    await this.paged(this.settings.userBaseDn, this.settings.userBaseSetting, filter, USER_ATTRIBUTES, (entry) => {
      const account = one(entry, 'sAMAccountName');
      if (!account) return;
      users.push({
        guid: guidOf(entry),
        dn: entry.dn,
        account,
        upn: one(entry, 'userPrincipalName') ?? null,
        displayName: one(entry, 'displayName') ?? one(entry, 'cn') ?? account,
        mail: one(entry, 'mail') ?? null,
        disabled: (Number(one(entry, 'userAccountControl') ?? 0) & ACCOUNTDISABLE) !== 0,
        usnChanged: Number(one(entry, 'uSNChanged') ?? 0),
      });
      onPage(users.length);
    });
    return users;
  }

  /** Groups in scope with their direct member DNs (ranged values fetched in full). */
  async groups(sinceUsn: number | null, onPage: (count: number) => void): Promise<RawGroup[]> {
    const groups: RawGroup[] = [];
    const ranged: RawGroup[] = [];
    const filter = `(&${GROUP_CLASS}${this.settings.groupFilter}${sinceUsn === null ? '' : `(uSNChanged>=${sinceUsn + 1})`})`;
    await this.paged(this.settings.groupBaseDn, this.settings.groupBaseSetting, filter, GROUP_ATTRIBUTES, (entry) => {
      const cn = one(entry, 'cn') ?? entry.dn;
      const group: RawGroup = {
        guid: guidOf(entry),
        dn: entry.dn,
        name: one(entry, 'sAMAccountName') ?? cn,
        cn,
        description: one(entry, 'description') ?? '',
        memberDns: many(entry, 'member'),
        usnChanged: Number(one(entry, 'uSNChanged') ?? 0),
      };
      // AD sends big groups' members in ranges (member;range=0-1499) instead of `member`.
      const rangeKey = Object.keys(entry).find((k) => /^member;range=/i.test(k));
      if (rangeKey) {
        group.memberDns = many(entry, rangeKey);
        if (!/-\*$/.test(rangeKey)) ranged.push(group);
      }
      groups.push(group);
      onPage(groups.length);
    });
    for (const group of ranged) await this.remainingMembers(group);
    return groups;
  }

  /**
   * Objects deleted since a USN: their tombstones, read with the "show deleted" control. Undefined
   * when the directory refuses that (the account may not read deleted objects); the caller then
   * compares GUIDs instead.
   */
  async deletedSince(root: RootDse, sinceUsn: number): Promise<Set<string> | undefined> {
    const deleted = new Set<string>();
    const showDeleted = new Control(SHOW_DELETED_OID, { critical: true });
    try {
      // An account that may not list the Deleted Objects container gets no tombstones and no
      // error, which would read as "nothing deleted". So tombstones are trusted only when at least
      // one is visible (a domain in use always has some, for the tombstone lifetime).
      if (!(await this.anyTombstoneVisible(root, showDeleted))) return undefined;
      const pages = this.client.searchPaginated(
        root.defaultNamingContext,
        {
          scope: 'sub',
          filter: `(&(isDeleted=TRUE)(uSNChanged>=${sinceUsn + 1}))`,
          attributes: ['objectGUID'],
          explicitBufferAttributes: ['objectGUID'],
          paged: { pageSize: this.settings.pageSize },
        },
        showDeleted,
      );
      for await (const page of pages) for (const entry of page.searchEntries) deleted.add(guidOf(entry));
      return deleted;
    } catch (error) {
      if (error instanceof ResultCodeError) return undefined;
      throw this.failure(error, 'LDAP_BASE_DN');
    }
  }

  private async anyTombstoneVisible(root: RootDse, showDeleted: Control): Promise<boolean> {
    try {
      const { searchEntries } = await this.client.search(
        `CN=Deleted Objects,${root.defaultNamingContext}`,
        { scope: 'one', attributes: ['objectGUID'], sizeLimit: 1 },
        showDeleted,
      );
      return searchEntries.length > 0;
    } catch (error) {
      if (error instanceof SizeLimitExceededError) return true;
      throw error;
    }
  }

  /** Users and groups changed since a USN anywhere in the domain (in scope or not): reveals moves out of scope. */
  async changedAnywhere(root: RootDse, sinceUsn: number): Promise<Set<string>> {
    const changed = new Set<string>();
    await this.paged(
      root.defaultNamingContext,
      'LDAP_BASE_DN',
      `(&(|${USER_CLASS}${GROUP_CLASS})(uSNChanged>=${sinceUsn + 1}))`,
      ['objectGUID'],
      (e) => changed.add(guidOf(e)),
    );
    return changed;
  }

  /** GUIDs of everything in scope now: what is stored but missing here was deleted or left the scope. */
  async guidsInScope(): Promise<{ users: Set<string>; groups: Set<string> }> {
    const users = new Set<string>();
    const groups = new Set<string>();
    await this.paged(
      this.settings.userBaseDn,
      this.settings.userBaseSetting,
      `(&${USER_CLASS}${this.settings.userFilter}(sAMAccountName=*))`,
      ['objectGUID'],
      (e) => users.add(guidOf(e)),
    );
    await this.paged(
      this.settings.groupBaseDn,
      this.settings.groupBaseSetting,
      `(&${GROUP_CLASS}${this.settings.groupFilter})`,
      ['objectGUID'],
      (e) => groups.add(guidOf(e)),
    );
    return { users, groups };
  }

  private async remainingMembers(group: RawGroup): Promise<void> {
    for (let start = group.memberDns.length; ;) {
      const entry = await this.searchOne(group.dn, 'base', '(objectClass=*)', [`member;range=${start}-*`]);
      const key = Object.keys(entry).find((k) => /^member;range=/i.test(k));
      const values = key ? many(entry, key) : [];
      // Only the final range ("…-*") completes the list: a group stored with part of its members
      // would take roles and approval rights from the others, so anything else fails the sync.
      const last = key !== undefined && /-\*$/.test(key);
      if (!last && values.length === 0) {
        throw new DirectoryError(
          DirectoryErrorCode.Failed,
          'LDAP_GROUP_BASE_DN',
          `the member list of ${group.dn} ended before its last range (read ${group.memberDns.length}); nothing was changed`,
        );
      }
      group.memberDns.push(...values);
      if (last) return;
      start += values.length;
    }
  }

  private async paged(
    base: string,
    baseSetting: string,
    filter: string,
    attributes: string[],
    each: (entry: Entry) => void,
  ): Promise<void> {
    try {
      const pages = this.client.searchPaginated(base, {
        scope: 'sub',
        filter,
        attributes,
        explicitBufferAttributes: ['objectGUID'],
        paged: { pageSize: this.settings.pageSize },
      });
      for await (const page of pages) for (const entry of page.searchEntries) each(entry);
    } catch (error) {
      throw this.failure(error, baseSetting);
    }
  }

  private async searchOne(base: string, scope: 'base', filter: string, attributes: string[]): Promise<Entry> {
    try {
      const { searchEntries } = await this.client.search(base, { scope, filter, attributes });
      const entry = searchEntries[0];
      if (!entry) throw new DirectoryError(DirectoryErrorCode.Failed, 'LDAP_URL', `no entry at '${base}'`);
      return entry;
    } catch (error) {
      throw this.failure(error, 'LDAP_BASE_DN');
    }
  }

  private failure(error: unknown, baseSetting: string): DirectoryError {
    return classifyDirectoryError(error, 'search', { ...this.settings, baseSetting });
  }
}
