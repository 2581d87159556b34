/**
 * Directory sync and sign-in against a real Samba AD DC on loopback:
 *   - full sync of 10,000 users and 1,000 groups (nested three levels), with progress (target < 60 s)
 *   - incremental sync of 10 changes (target < 2 s)
 *   - directory sign-in over HTTP (bind as the user over LDAPS), p50 / p99 (target p99 < 150 ms)
 *
 *   npm run bench:directory [-- --users=10000 --groups=1000 --logins=300]
 *
 * Environment: DIR_BENCH_USERS, DIR_BENCH_GROUPS, DIR_BENCH_LOGINS, BENCH_DATABASE_URL (admin URL of
 * the PostgreSQL to use; default postgres://postgres@127.0.0.1:5432/postgres: a scratch database is
 * created and dropped). The bench starts its own Samba DC (one per machine: it waits while a test
 * run holds it), or uses a running one described by GATEHOUSE_TEST_SAMBA_INFO.
 * Building the directory (≈5 ms per user over LDAPS) is not part of any measurement.
 */
import 'reflect-metadata';
import { mkdtempSync, rmSync, cpSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Attribute, Change, Control, type Client } from 'ldapts';
import pg from 'pg';
import { createApp } from '../src/app.factory.js';
import { loadConfig } from '../src/config/config.schema.js';
import { DirectorySyncService } from '../src/directory/directory-sync.service.js';
import type { SyncRun } from '../src/directory/directory-status.js';
import { connectAsAdmin, readSambaInfo, startSambaDc, stopSambaDc, type SambaDc } from '../test/support/samba-dc.js';
import { fmtMs, numberOption, percentile, runBench, table } from './bench-util.js';

const USERS = numberOption('users', 'DIR_BENCH_USERS', 10_000);
const GROUPS = numberOption('groups', 'DIR_BENCH_GROUPS', 1_000);
const LOGINS = numberOption('logins', 'DIR_BENCH_LOGINS', 300);
const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const SIGN_IN_USERS = 20;
const PASSWORD = 'Bench-Directory-Pw1!';
const ADMIN_PASSWORD = 'Bench-gatehouse-passw0rd-long';
const TARGET_FULL_MS = 60_000;
const TARGET_INCREMENTAL_MS = 2_000;
const TARGET_LOGIN_P99_MS = 150;

const log = (message: string) => process.stderr.write(`${message}\n`);

async function pipelined<T>(count: number, fn: (i: number) => Promise<T>, inFlight = 32): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      results[i] = await fn(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, count) }, worker));
  return results;
}

interface BuiltDirectory {
  ou: string;
  userDns: string[];
  leafDns: string[];
  sam: (i: number) => string;
}

/** 10,000 users in 5 OUs; groups: 70% leaves holding the users, 25% middles holding leaves, 5% tops. */
async function buildDirectory(client: Client, dc: SambaDc, tag: string): Promise<BuiltDirectory> {
  const started = performance.now();
  const ou = `OU=gh-bench-${tag},${dc.baseDn}`;
  await client.add(ou, { objectClass: ['top', 'organizationalUnit'] });
  const ous = await pipelined(5, async (i) => {
    const dn = `OU=Dept${i},${ou}`;
    await client.add(dn, { objectClass: ['top', 'organizationalUnit'] });
    return dn;
  });
  const groupsOu = `OU=Groups,${ou}`;
  await client.add(groupsOu, { objectClass: ['top', 'organizationalUnit'] });
  const sam = (i: number) => `b${tag}${i}`;
  const userDns = await pipelined(USERS, async (i) => {
    const dn = `CN=Bench User ${i} (${tag}),${ous[i % ous.length]}`;
    const attributes = [
      new Attribute({ type: 'objectClass', values: ['top', 'person', 'organizationalPerson', 'user'] }),
      new Attribute({ type: 'sAMAccountName', values: [sam(i)] }),
      new Attribute({ type: 'userPrincipalName', values: [`${sam(i)}@${dc.realm.toLowerCase()}`] }),
      new Attribute({ type: 'displayName', values: [`Bench User ${i}`] }),
      new Attribute({ type: 'mail', values: [`${sam(i)}@hospital.example`] }),
      new Attribute({
        type: 'userAccountControl',
        values: [String(i % 50 === 49 ? 0x202 : i < SIGN_IN_USERS ? 0x200 : 0x220)],
      }),
    ];
    if (i < SIGN_IN_USERS) {
      attributes.push(new Attribute({ type: 'unicodePwd', values: [Buffer.from(`"${PASSWORD}"`, 'utf16le')] }));
    }
    await client.add(dn, attributes);
    if (i % 1000 === 999) log(`  built ${i + 1} users (${Math.round((performance.now() - started) / 1000)} s)`);
    return dn;
  });
  const leaves = Math.round(GROUPS * 0.7);
  const mids = Math.round(GROUPS * 0.25);
  const tops = GROUPS - leaves - mids;
  const addGroup = async (name: string, members: string[]) => {
    const dn = `CN=${name},${groupsOu}`;
    await client.add(dn, {
      objectClass: ['top', 'group'],
      sAMAccountName: name,
      ...(members.length ? { member: members } : {}),
    });
    return dn;
  };
  const leafDns = await pipelined(leaves, (g) =>
    addGroup(
      `bl${tag}${g}`,
      userDns.filter((_, i) => i % leaves === g),
    ),
  );
  const midDns = await pipelined(mids, (g) =>
    addGroup(
      `bm${tag}${g}`,
      leafDns.filter((_, l) => l % mids === g),
    ),
  );
  await pipelined(tops, (g) =>
    addGroup(
      `bt${tag}${g}`,
      midDns.filter((_, m) => m % tops === g),
    ),
  );
  log(`  built ${USERS} users and ${GROUPS} groups in ${Math.round((performance.now() - started) / 1000)} s`);
  return { ou, userDns, leafDns, sam };
}

function describeRun(run: SyncRun): string {
  if (run.outcome !== 'success') return `FAILED: ${run.error?.message}`;
  return Object.entries(run.phasesMs ?? {})
    .map(([phase, ms]) => `${phase} ${fmtMs(ms / 1000, 2)} s`)
    .join(', ');
}

async function main(): Promise<number> {
  const infoFile = process.env.GATEHOUSE_TEST_SAMBA_INFO;
  const ownDc = !infoFile;
  log(ownDc ? 'Starting a Samba AD DC on loopback…' : `Using the Samba DC of ${infoFile}`);
  const dc = infoFile ? await readSambaInfo(infoFile) : await startSambaDc();
  const admin = await connectAsAdmin(dc);
  const tag = Math.random().toString(36).slice(2, 5);
  const dbName = `gh_bench_dir_${process.pid}`;
  const adminDb = new pg.Client({ connectionString: ADMIN_URL });
  adminDb.on('error', (e) => console.error(`bench database connection failed: ${e.message}`));
  await adminDb.connect();
  await adminDb.query(`CREATE DATABASE ${dbName}`);
  const dbUrl = new URL(ADMIN_URL);
  dbUrl.pathname = `/${dbName}`;
  const policiesDir = mkdtempSync(path.join(tmpdir(), 'gh-bench-policies-'));
  let built: BuiltDirectory | undefined;
  let gatehouse: Awaited<ReturnType<typeof createApp>> | undefined;
  try {
    log(`Building ${USERS} users and ${GROUPS} groups…`);
    built = await buildDirectory(admin, dc, tag);
    cpSync('policies', policiesDir, { recursive: true });
    // Roles for a tenth of the groups, by name, so the sync has role changes to compute and audit.
    writeFileSync(
      path.join(policiesDir, 'bench-access.yaml'),
      `access:\n${Array.from({ length: 50 }, (_, g) => `  - group: bm${tag}${g}\n    role: ${g % 2 ? 'viewer' : 'approver'}\n`).join('')}`,
    );
    const env = {
      DATABASE_URL: dbUrl.toString(),
      LOG_LEVEL: 'warn',
      POLICIES_DIR: policiesDir,
      GATEHOUSE_ADMIN_PASSWORD: ADMIN_PASSWORD,
      LDAP_URL: dc.ldapsUrl,
      LDAP_BIND_DN: dc.adminDn,
      LDAP_BIND_PASSWORD: dc.adminPassword,
      LDAP_BASE_DN: built.ou,
      LDAP_CA_FILE: dc.caFile,
      LDAP_TLS_SERVERNAME: dc.serverName,
      LDAP_FULL_SYNC_MINUTES: '0',
      LDAP_INCREMENTAL_SYNC_MINUTES: '0',
      LDAP_PAGE_SIZE: '1000',
    };
    gatehouse = await createApp(loadConfig(env));
    await gatehouse.app.listen({ port: 0, host: '127.0.0.1' });
    const baseUrl = `http://127.0.0.1:${(gatehouse.app.getHttpServer().address() as { port: number }).port}`;
    const sync = gatehouse.app.get(DirectorySyncService);
    const actor = { type: 'system' as const, id: 'bench' };

    log('Full sync…');
    const progress = setInterval(() => {
      void sync.status().then((s) => {
        if (s.running) log(`  ${s.running.phase}: ${s.running.usersRead} users, ${s.running.groupsRead} groups read`);
      });
    }, 1000);
    const full = await sync.syncNow('full', actor, 'bench').finally(() => clearInterval(progress));
    log(`  ${full.outcome} in ${full.durationMs} ms (${describeRun(full)}): ${JSON.stringify(full.counts)}`);

    log('10 changes, then an incremental sync…');
    const { userDns, leafDns } = built;
    const change = (dn: string, operation: 'add' | 'delete' | 'replace', type: string, values: string[]) =>
      admin.modify(dn, new Change({ operation, modification: new Attribute({ type, values }) }));
    await change(leafDns[1], 'add', 'member', [userDns[2]]);
    await change(leafDns[3], 'add', 'member', [userDns[4]]);
    await change(leafDns[5], 'add', 'member', [userDns[6]]);
    await change(leafDns[7 % leafDns.length], 'delete', 'member', [userDns[7]]);
    await change(leafDns[8 % leafDns.length], 'delete', 'member', [userDns[8]]);
    await change(userDns[100], 'replace', 'userAccountControl', ['514']);
    await change(userDns[101], 'replace', 'userAccountControl', ['514']);
    await change(userDns[102], 'replace', 'displayName', ['Renamed 102']);
    await admin.modifyDN(userDns[103], `CN=Renamed 103 ${tag}`);
    await admin.del(userDns[104]);
    const incremental = await sync.syncNow('incremental', actor, 'bench');
    log(
      `  ${incremental.outcome} in ${incremental.durationMs} ms (${describeRun(incremental)}): ${JSON.stringify(incremental.counts)}`,
    );

    log(`${LOGINS} directory sign-ins over HTTP (one at a time)…`);
    const latencies: number[] = [];
    for (let i = 0; i < LOGINS + 20; i++) {
      const username = built.sam(i % SIGN_IN_USERS);
      const t0 = performance.now();
      const res = await fetch(`${baseUrl}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username, password: PASSWORD }),
      });
      await res.text();
      const ms = performance.now() - t0;
      if (res.status !== 200) throw new Error(`sign-in of ${username} answered ${res.status}`);
      if (i >= 20) latencies.push(ms); // the first 20 warm up
    }
    latencies.sort((a, b) => a - b);
    const p50 = percentile(latencies, 50);
    const p99 = percentile(latencies, 99);

    // After the sign-ins: a second app in this process takes over Passport's (process-wide) strategies.
    log('The same with a plain service account (no tombstones: deletions by comparing every GUID)…');
    const svcDn = `CN=svc-bench-${tag},${built.ou}`;
    await admin.add(svcDn, [
      new Attribute({ type: 'objectClass', values: ['top', 'person', 'organizationalPerson', 'user'] }),
      new Attribute({ type: 'sAMAccountName', values: [`svc${tag}`] }),
      new Attribute({ type: 'unicodePwd', values: [Buffer.from(`"${PASSWORD}"`, 'utf16le')] }),
      new Attribute({ type: 'userAccountControl', values: ['512'] }),
    ]);
    await admin.del(userDns[105]);
    const plain = await createApp(loadConfig({ ...env, LDAP_BIND_DN: svcDn, LDAP_BIND_PASSWORD: PASSWORD }));
    let plainRun: SyncRun;
    try {
      plainRun = await plain.app.get(DirectorySyncService).syncNow('incremental', actor, 'bench');
    } finally {
      await plain.app.close();
    }
    log(
      `  ${plainRun.outcome} in ${plainRun.durationMs} ms (${describeRun(plainRun)}), deletions by ${plainRun.deletionCheck}`,
    );

    const verdict = (ok: boolean) => (ok ? 'met' : '**not met**');
    console.log(
      table([
        ['measure', 'result', 'target'],
        [
          `full sync, ${USERS} users / ${GROUPS} groups`,
          `${fmtMs(full.durationMs / 1000, 1)} s (${describeRun(full)})`,
          `< 60 s: ${verdict(full.outcome === 'success' && full.durationMs < TARGET_FULL_MS)}`,
        ],
        [
          'incremental sync, 10 changes',
          `${fmtMs(incremental.durationMs / 1000, 2)} s (${describeRun(incremental)}; deletions by ${incremental.deletionCheck})`,
          `< 2 s: ${verdict(incremental.outcome === 'success' && incremental.durationMs < TARGET_INCREMENTAL_MS)}`,
        ],
        [
          'incremental sync, plain service account',
          `${fmtMs(plainRun.durationMs / 1000, 2)} s (${describeRun(plainRun)}; deletions by ${plainRun.deletionCheck})`,
          `< 2 s: ${verdict(plainRun.outcome === 'success' && plainRun.durationMs < TARGET_INCREMENTAL_MS)}`,
        ],
        [
          `directory sign-in over HTTP, ${LOGINS} sequential`,
          `p50 ${fmtMs(p50, 1)} ms, p99 ${fmtMs(p99, 1)} ms`,
          `p99 < 150 ms: ${verdict(p99 < TARGET_LOGIN_P99_MS)}`,
        ],
      ]),
    );
    return full.outcome === 'success' && incremental.outcome === 'success' && plainRun.outcome === 'success' ? 0 : 1;
  } finally {
    await gatehouse?.app.close().catch(() => undefined);
    await adminDb.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => undefined);
    await adminDb.end();
    rmSync(policiesDir, { recursive: true, force: true });
    if (ownDc) {
      await admin.unbind().catch(() => undefined);
      await stopSambaDc(dc);
    } else {
      if (built) await admin.del(built.ou, new Control('1.2.840.113556.1.4.805')).catch(() => undefined);
      await admin.unbind().catch(() => undefined);
    }
  }
}

runBench(main, { exit: true });
