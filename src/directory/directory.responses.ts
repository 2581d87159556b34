import { z } from 'zod';

/** The bodies the directory API answers (directory-status.ts, directory-settings.ts; checked by test/http/openapi). */
const kind = z.enum(['full', 'incremental']);
const count = z.number().int();

const syncRunSchema = z.object({
  kind,
  trigger: z.string(),
  outcome: z.enum(['success', 'failure']),
  startedAt: z.iso.datetime(),
  finishedAt: z.iso.datetime(),
  durationMs: z.number(),
  phasesMs: z.record(z.string(), z.number()).optional().describe('Wall-clock ms per phase'),
  counts: z
    .object({
      usersInDirectory: count,
      groupsInDirectory: count,
      usersAdded: count,
      usersUpdated: count,
      usersRemoved: count,
      usersDisabled: count,
      groupsAdded: count,
      groupsUpdated: count,
      groupsRemoved: count,
      membershipsAdded: count,
      membershipsRemoved: count,
      roleChanges: count,
      skipped: z.array(z.string()),
    })
    .optional(),
  deletionCheck: z.enum(['tombstones', 'guid-scan']).nullable().optional(),
  error: z
    .object({ code: z.string(), setting: z.string(), message: z.string() })
    .optional()
    .describe('On failure: what went wrong and which setting to look at; nothing was changed'),
});

export const directoryStatusSchema = z.object({
  enabled: z.boolean().describe('Whether a directory is configured (LDAP_URL)'),
  settings: z
    .object({
      url: z.string(),
      startTls: z.boolean(),
      bindDn: z.string(),
      baseDn: z.string(),
      userBaseDn: z.string(),
      groupBaseDn: z.string(),
      userFilter: z.string().nullable(),
      groupFilter: z.string().nullable(),
      tlsServerName: z.string(),
      certificateChecks: z.boolean(),
      fullSyncMinutes: z.number(),
      incrementalSyncMinutes: z.number(),
    })
    .nullable(),
  running: z
    .object({
      kind,
      trigger: z.string(),
      startedAt: z.iso.datetime(),
      replica: z.string(),
      phase: z.enum(['connecting', 'reading-users', 'reading-groups', 'checking-deletions', 'writing']),
      usersRead: count,
      groupsRead: count,
    })
    .nullable(),
  lastRun: syncRunSchema.nullable(),
  lastSuccess: syncRunSchema.nullable(),
  lastFullSuccessAt: z.iso.datetime().nullable(),
  warnings: z.array(z.string()),
});

export const syncStartedSchema = z.object({ started: z.literal(true), kind });
