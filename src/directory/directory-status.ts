import type { DataSource, EntityManager } from 'typeorm';
import type { SyncCounts } from './directory-store.js';
import { readSetting, writeSetting } from '../database/settings.js';
import type { SyncCursor } from './directory-model.js';
import type { ReadProgress, SyncKind } from './directory-sync.js';

/** A sync in progress, as every replica sees it (kept in the settings table). */
export interface RunningSync extends ReadProgress {
  kind: SyncKind;
  trigger: string;
  startedAt: string;
  replica: string;
}

export interface SyncRun {
  kind: SyncKind;
  trigger: string;
  outcome: 'success' | 'failure';
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  /** Wall-clock ms per phase (connecting, reading-users, reading-groups, checking-deletions, writing). */
  phasesMs?: Record<string, number>;
  counts?: SyncCounts;
  /** Incremental syncs: how deletions were found (tombstones, or reading every GUID in scope). */
  deletionCheck?: 'tombstones' | 'guid-scan' | null;
  /** On failure: what went wrong and which setting to look at. Nothing was changed. */
  error?: { code: string; setting: string; message: string };
}

export interface StoredStatus {
  running: RunningSync | null;
  lastRun: SyncRun | null;
  lastSuccess: SyncRun | null;
  lastFullSuccessAt: string | null;
  warnings: string[];
}

const STATUS_KEY = 'directory.status';
const CURSOR_KEY = 'directory.cursor';

const EMPTY: StoredStatus = { running: null, lastRun: null, lastSuccess: null, lastFullSuccessAt: null, warnings: [] };

export const readStatus = async (m: DataSource | EntityManager): Promise<StoredStatus> => ({
  ...EMPTY,
  ...(await readSetting<StoredStatus>(m, STATUS_KEY)),
});

/** Read-modify-write of the status; only the replica holding the sync lock writes it. */
export async function updateStatus(
  m: DataSource | EntityManager,
  change: (s: StoredStatus) => StoredStatus,
): Promise<StoredStatus> {
  const next = change(await readStatus(m));
  await writeSetting(m, STATUS_KEY, next);
  return next;
}

export const readCursor = (m: DataSource | EntityManager) => readSetting<SyncCursor>(m, CURSOR_KEY);
export const writeCursor = (m: EntityManager, cursor: SyncCursor) => writeSetting(m, CURSOR_KEY, cursor);
