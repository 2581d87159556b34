import type { EntityManager } from 'typeorm';
import type { DirectoryGroup } from './directory-model.js';
import { normalizeDn, normalizeGroupRef } from './ldap-filter.js';

/** What a sync changed (or, in a dry run, would change). */
export interface SyncCounts {
  usersInDirectory: number;
  groupsInDirectory: number;
  usersAdded: number;
  usersUpdated: number;
  usersRemoved: number;
  usersDisabled: number;
  groupsAdded: number;
  groupsUpdated: number;
  groupsRemoved: number;
  membershipsAdded: number;
  membershipsRemoved: number;
  roleChanges: number;
  /** Accounts or groups left out, with the reason (e.g. a local user of the same name). */
  skipped: string[];
}

export interface StoredUser {
  user_id: string;
  guid: string;
  username: string;
  display_name: string;
  disabled: boolean;
  directory_disabled: boolean;
  dn: string;
  upn: string | null;
  mail: string | null;
  usn_changed: string;
  removed: boolean;
}

export interface StoredGroup {
  group_id: string;
  guid: string;
  name: string;
  description: string;
  aliases: string[];
  dn: string;
  cn: string;
  member_guids: string[];
  usn_changed: string;
}

const BATCH = 5000;

/** Runs `fn` over `items` in slices, so no statement carries an unbounded array. */
export async function inBatches<T>(items: T[], fn: (slice: T[]) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += BATCH) await fn(items.slice(i, i + BATCH));
}

/** The other spellings the policy files may use for a group: its CN and DN, normalised. */
export const groupAliases = (g: DirectoryGroup) => [...new Set([normalizeGroupRef(g.cn), normalizeDn(g.dn)])].sort();

export const sameArray = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * The directory objects that may be stored under their name, in order: not one whose name
 * (any of `namesOf`, lower case) a local user or group has (the local one keeps it), nor a
 * second one with the same stored name (`keyOf`). Each left out is reported in `skipped`.
 */
export function withoutNameClashes<T>(
  items: Iterable<T>,
  kind: 'user' | 'group',
  localNames: ReadonlySet<string>,
  of: { label: (item: T) => string; key: (item: T) => string; names: (item: T) => string[] },
  skipped: string[],
): T[] {
  const taken = new Set<string>();
  const kept: T[] = [];
  for (const item of items) {
    const key = of.key(item);
    if (of.names(item).some((name) => localNames.has(name))) {
      skipped.push(`${kind} ${of.label(item)}: a local ${kind} has this name (the local ${kind} keeps it)`);
    } else if (taken.has(key)) {
      skipped.push(
        `${kind} ${of.label(item)}: another directory ${kind === 'user' ? 'account' : 'group'} has the same name`,
      );
    } else {
      taken.add(key);
      kept.push(item);
    }
  }
  return kept;
}

/**
 * Ends these people's sessions in the sync's transaction: auth owns the sessions table, so
 * the directory asks its SessionRevocation service (directory-sync.service passes it in).
 */
export type EndSessions = (m: EntityManager, userIds: string[]) => Promise<void>;
