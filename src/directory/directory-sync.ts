import type { Client } from 'ldapts';
import type { DirectorySettings } from './directory-settings.js';
import type { DirectoryGroup, DirectorySnapshot, DirectoryUser, SyncCursor } from './directory-model.js';
import { DirectoryReader, type RawGroup } from './directory-reader.js';
import { dnIndex } from './directory-store.js';
import { normalizeDn } from './ldap-filter.js';

export type SyncKind = 'full' | 'incremental';

export interface ReadProgress {
  phase: 'connecting' | 'reading-users' | 'reading-groups' | 'checking-deletions' | 'writing';
  usersRead: number;
  groupsRead: number;
}

/** What a read of the directory produced: a complete snapshot, and where the next incremental continues. */
export interface DirectoryRead {
  kind: SyncKind;
  snapshot: DirectorySnapshot;
  cursor: SyncCursor;
  lockoutThreshold: number | null;
  changedUsers: number;
  changedGroups: number;
  /** How an incremental read found deletions: tombstones (fast), or by reading every GUID in scope. */
  deletionCheck: 'tombstones' | 'guid-scan' | null;
}

/**
 * Reads the directory into a complete snapshot. A full read takes everything in scope; an
 * incremental read takes what changed since the cursor's USN (uSNChanged) and the GUIDs in scope
 * (which reveal deletions and moves out of scope), applied to the stored copy. Falls back to a
 * full read when there is no cursor or another domain controller answers (USNs are per DC).
 * INVARIANT: returns only after every page was read; any failure throws and nothing is applied.
 */
export async function readDirectory(
  client: Client,
  settings: DirectorySettings,
  requested: SyncKind,
  cursor: SyncCursor | null,
  /** The stored copy, for an incremental read (loaded by the caller while the directory is read). */
  storedCopy: () => Promise<DirectorySnapshot>,
  progress: (p: ReadProgress) => void,
): Promise<DirectoryRead> {
  const reader = new DirectoryReader(client, settings);
  const state: ReadProgress = { phase: 'connecting', usersRead: 0, groupsRead: 0 };
  const report = (patch: Partial<ReadProgress>) => progress(Object.assign(state, patch));
  // The USN is taken before reading, so a change made during the read is read again next time.
  const root = await reader.rootDse();
  const domain = await reader.domainInfo(root);
  const kind: SyncKind = requested === 'incremental' && cursor?.server === root.server ? 'incremental' : 'full';
  const since = kind === 'incremental' ? cursor!.highestUsn : null;

  report({ phase: 'reading-users' });
  const users = await reader.users(since, (n) => report({ usersRead: n }));
  report({ phase: 'reading-groups' });
  const rawGroups = await reader.groups(since, (n) => report({ groupsRead: n }));

  let snapshot: DirectorySnapshot;
  let deletionCheck: DirectoryRead['deletionCheck'] = null;
  if (kind === 'full') {
    snapshot = { users: new Map(users.map((u) => [u.guid, u])), groups: new Map() };
    addGroups(snapshot, rawGroups);
  } else {
    report({ phase: 'checking-deletions' });
    snapshot = await storedCopy();
    for (const user of users) snapshot.users.set(user.guid, user);
    const { gone, method } = await removedSince(reader, root, since!, users, rawGroups);
    deletionCheck = method;
    for (const guid of snapshot.users.keys()) if (gone(guid)) snapshot.users.delete(guid);
    for (const guid of snapshot.groups.keys()) if (gone(guid)) snapshot.groups.delete(guid);
    addGroups(
      snapshot,
      rawGroups.filter((g) => !gone(g.guid)),
    );
    pruneMembers(snapshot);
  }
  return {
    kind,
    snapshot,
    cursor: { server: root.server, highestUsn: root.highestUsn, netbiosDomain: domain.netbios, dnsDomain: domain.dns },
    lockoutThreshold: domain.lockoutThreshold,
    changedUsers: users.length,
    changedGroups: rawGroups.length,
    deletionCheck,
  };
}

/**
 * Which stored objects are gone since the USN: deleted (tombstones), or changed but no longer in
 * scope (moved elsewhere, or no longer matching the filters). When the directory will not show
 * tombstones, every GUID in scope is read instead (slower, same answer).
 */
async function removedSince(
  reader: DirectoryReader,
  root: Awaited<ReturnType<DirectoryReader['rootDse']>>,
  since: number,
  changedUsers: DirectoryUser[],
  changedGroups: RawGroup[],
): Promise<{ gone: (guid: string) => boolean; method: 'tombstones' | 'guid-scan' }> {
  const deleted = await reader.deletedSince(root, since);
  if (!deleted) {
    const inScope = await reader.guidsInScope();
    return { gone: (guid) => !inScope.users.has(guid) && !inScope.groups.has(guid), method: 'guid-scan' };
  }
  const inScope = new Set([...changedUsers.map((u) => u.guid), ...changedGroups.map((g) => g.guid)]);
  const changed = await reader.changedAnywhere(root, since);
  return { gone: (guid) => deleted.has(guid) || (changed.has(guid) && !inScope.has(guid)), method: 'tombstones' };
}

/** Adds (or replaces) groups, turning their member DNs into GUIDs of users and groups in the snapshot. */
function addGroups(snapshot: DirectorySnapshot, rawGroups: RawGroup[]): void {
  for (const raw of rawGroups) snapshot.groups.set(raw.guid, toGroup(raw, []));
  const index = dnIndex(snapshot);
  for (const raw of rawGroups) {
    // Members outside the scope (computers, other OUs, foreign principals) have no GUID here and are left out.
    const members = raw.memberDns.map((dn) => index.get(normalizeDn(dn))).filter((g): g is string => g !== undefined);
    snapshot.groups.get(raw.guid)!.memberGuids = [...new Set(members)];
  }
}

/** Drops member GUIDs that left the snapshot (deleted or moved out of scope). */
function pruneMembers(snapshot: DirectorySnapshot): void {
  for (const group of snapshot.groups.values()) {
    group.memberGuids = group.memberGuids.filter((g) => snapshot.users.has(g) || snapshot.groups.has(g));
  }
}

function toGroup(raw: RawGroup, memberGuids: string[]): DirectoryGroup {
  const { memberDns: _unused, ...rest } = raw;
  return { ...rest, memberGuids };
}

export type { DirectoryUser };
