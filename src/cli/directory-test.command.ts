import type { INestApplicationContext } from '@nestjs/common';
import { DirectorySyncService } from '../directory/directory-sync.service.js';
import { describeSettings } from '../directory/directory-settings.js';
import { DirectoryError } from '../directory/directory.errors.js';
import { ApiError } from '../common/api-error.js';

/**
 * `directory:test`: connects and binds with the LDAP_* settings, reads everything a full sync
 * would, and applies it in a transaction that is rolled back, to show what a sync would change.
 */
export async function directoryTest(ctx: INestApplicationContext): Promise<number> {
  const sync = ctx.get(DirectorySyncService);
  if (!sync.settings) {
    console.error('No directory is configured: set LDAP_URL, LDAP_BIND_DN, LDAP_BIND_PASSWORD and LDAP_BASE_DN.');
    return 1;
  }
  const settings = describeSettings(sync.settings);
  console.log(`Directory ${settings.url}${settings.startTls ? ' (StartTLS)' : ''}, bound as ${settings.bindDn}`);
  console.log(`  users from ${settings.userBaseDn}${settings.userFilter ? ` matching ${settings.userFilter}` : ''}`);
  console.log(
    `  groups from ${settings.groupBaseDn}${settings.groupFilter ? ` matching ${settings.groupFilter}` : ''}`,
  );
  console.log(
    settings.certificateChecks
      ? `  certificate checked for the name ${settings.tlsServerName}`
      : '  WARNING: certificate checks are OFF (LDAP_TLS_INSECURE=true): labs only',
  );
  try {
    const run = await sync.syncNow('full', { type: 'system', id: 'cli' }, 'cli', { dryRun: true });
    const c = run.counts!;
    console.log(
      `Connection OK. Read ${c.usersInDirectory} users and ${c.groupsInDirectory} groups in ${run.durationMs} ms.`,
    );
    console.log(
      `A sync would: add ${c.usersAdded} users, update ${c.usersUpdated}, remove ${c.usersRemoved}; ` +
        `add ${c.groupsAdded} groups, update ${c.groupsUpdated}, remove ${c.groupsRemoved}; ` +
        `memberships +${c.membershipsAdded} -${c.membershipsRemoved}; role changes for ${c.roleChanges} people.`,
    );
    for (const skipped of c.skipped) console.log(`  left out: ${skipped}`);
    console.log('Nothing was changed.');
    return 0;
  } catch (error) {
    if (error instanceof DirectoryError || error instanceof ApiError) {
      console.error(`Directory check failed: ${error.message}`);
      return 1;
    }
    throw error;
  }
}
