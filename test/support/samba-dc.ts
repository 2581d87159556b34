/**
 * Test support: a REAL Samba Active Directory domain controller on loopback.
 *
 * Measured on the dev VM (Debian 12, Samba 4.17.12-Debian, Node 20, gVisor sandbox):
 *   - `samba-tool domain provision --dns-backend=NONE` into a fresh dir: ~3.8 s (CPU bound: python + ldb)
 *   - `samba -i` until the first verified LDAPS bind as Administrator: ~1.2-2 s (Samba generates its TLS
 *     keys on the first start, then the prefork ldap workers come up)
 *   - startSambaDc() in total: 5.0-5.9 s idle, ~7.5 s with other builds running; stopSambaDc(): ~0.13 s.
 * That is too slow to pay per test file, and the DC always listens on the fixed ports 389/636/3268/3269
 * (Samba cannot move them), so there can be only one DC per machine at a time. Hence one DC per test run:
 * Jest's globalSetup calls startSambaDc() + writeSambaInfo(), test files (in worker processes) call
 * readSambaInfo(process.env.GATEHOUSE_TEST_SAMBA_INFO), globalTeardown calls stopSambaDc().
 * Concurrent test runs on one machine take turns: startSambaDc() holds a lock file
 * (<tmp>/gatehouse-samba.lock) until stopSambaDc(), and a second run waits for it (a lock whose owner
 * process died is taken over).
 *
 * Writing users (measured against the running DC):
 *   - `samba-tool user create` (local sam.ldb): ~0.3 s per user (python start-up dominates).
 *   - LDAP add over LDAPS with unicodePwd: ~23 ms per user, ~6 ms without a password; parallel
 *     connections do NOT help (sam.ldb writes are serialised, password hashing - Kerberos AES keys -
 *     is the cost). `ldbadd -H <dir>/private/sam.ldb` of one big LDIF: ~20 ms per user.
 *
 * The DC is isolated from the machine's Samba: provisioning ignores /etc/samba/smb.conf (an empty
 * config file is passed), every path (pid, log, sockets, databases) lives under the DC's dir, only the
 * `ldap` server service runs, and it binds to `lo` only. The short host name `dc1` is passed to
 * provisioning, so nothing depends on the machine's host name or on /etc/hosts.
 *
 * Samba runs with `-i` (interactive): it logs to stdout (captured in <dir>/samba.log) and it terminates
 * its whole process group when its stdin reaches EOF, so the DC dies with the process that started it
 * even if that process is killed with SIGKILL. Stale DCs from dead runs that still hold the LDAP ports are
 * killed, but only Samba processes tied to a Gatehouse test dir (<tmp>/gatehouse-samba-*); anything else
 * on those ports is reported, never killed.
 *
 * TLS: Samba generates a self-signed CA (<dir>/private/tls/ca.pem) and a host certificate for
 * CN=DC1.hosp.test (no subjectAltName; Node falls back to the CN) on first start. Clients verify it
 * against that CA with servername dc1.hosp.test while connecting to 127.0.0.1 - never with verification
 * switched off. Simple binds on plain ldap://:389 are refused ("ldap server require strong auth = yes",
 * like a hardened AD); StartTLS on 389 works.
 *
 * Set GATEHOUSE_TEST_SAMBA_KEEP=1 to keep the DC's dir (databases, logs) after stopSambaDc() or a failed
 * start, for debugging.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  accessSync,
  constants,
  existsSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  realpathSync,
  statSync,
} from 'node:fs';
import { link, mkdir, mkdtemp, open, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ConnectionOptions } from 'node:tls';
import { Client } from 'ldapts';

export interface SambaDc {
  /** Directory holding the provisioned domain (databases, smb.conf, TLS material, logs). */
  dir: string;
  /** Kerberos realm, e.g. HOSP.TEST. */
  realm: string;
  /** NetBIOS domain name, e.g. HOSP. */
  domain: string;
  /** e.g. DC=hosp,DC=test */
  baseDn: string;
  /** Address the DC listens on: 127.0.0.1. */
  host: string;
  /** Name in the DC's TLS certificate (servername for SNI + verification): dc1.hosp.test. */
  serverName: string;
  /** ldaps://127.0.0.1:636 */
  ldapsUrl: string;
  /** ldap://127.0.0.1:389 (plain; simple binds refused without StartTLS). */
  ldapUrl: string;
  /** Path of the CA certificate that issued the DC's TLS certificate. */
  caFile: string;
  /** Contents of caFile (PEM). */
  caPem: string;
  /** e.g. CN=Administrator,CN=Users,DC=hosp,DC=test */
  adminDn: string;
  adminPassword: string;
  /** PID of the `samba` root process; it leads its own process group. */
  pid: number;
}

const REALM = 'HOSP.TEST';
const DOMAIN = 'HOSP';
const HOST_NAME = 'dc1';
const DNS_DOMAIN = REALM.toLowerCase();
const SERVER_NAME = `${HOST_NAME}.${DNS_DOMAIN}`;
const BASE_DN = DNS_DOMAIN.split('.')
  .map((part) => `DC=${part}`)
  .join(',');
const HOST = '127.0.0.1';
const LDAP_PORT = 389;
const LDAPS_PORT = 636;
/** Every TCP port Samba's ldap service binds (LDAP, LDAPS, global catalog, global catalog over TLS). */
const SAMBA_LDAP_PORTS = [389, 636, 3268, 3269];

/** Name prefix of the dirs the DCs live in; used to recognise stale Gatehouse test DCs. */
export const SAMBA_DIR_PREFIX = 'gatehouse-samba-';
/** Marker file written into every DC dir (also recognises DCs started with a custom `dir`). */
const MARKER_FILE = '.gatehouse-samba-dc';

/** Machine-wide lock: one test DC at a time (fixed ports); concurrent test runs wait for each other. */
const LOCK_FILE_NAME = 'gatehouse-samba.lock';
const DEFAULT_LOCK_WAIT_SECONDS = 600;

const STARTUP_TIMEOUT_MS = 60_000;
const PROVISION_TIMEOUT_MS = 180_000;
const STOP_TIMEOUT_MS = 15_000;

const EXTRA_BIN_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** Child processes started by this process, so stopSambaDc() can also reap them. */
const ownChildren = new Map<number, ChildProcess>();

/** GATEHOUSE_TEST_SAMBA_DEBUG=1 prints the phases of startSambaDc() with their timings. */
function debug(message: string): void {
  if (process.env.GATEHOUSE_TEST_SAMBA_DEBUG === '1') console.warn(`[samba-dc] ${message}`);
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function findExecutable(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), ...EXTRA_BIN_DIRS];
  for (const dir of dirs) {
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

function sambaBinaries(): { samba: string; sambaTool: string } {
  const samba = findExecutable('samba');
  const sambaTool = findExecutable('samba-tool');
  const missing: string[] = [];
  if (!samba) missing.push('samba (/usr/sbin/samba, Debian package "samba")');
  if (!sambaTool) missing.push('samba-tool (/usr/bin/samba-tool, Debian package "samba-common-bin")');
  if (!samba || !sambaTool) {
    throw new Error(
      `${missing.join(' and ')} not found on the PATH or in ${EXTRA_BIN_DIRS.join(', ')}: ` +
        "the tests need a real Samba AD DC - install Debian's samba-ad-dc package (apt-get install -y samba-ad-dc)",
    );
  }
  return { samba, sambaTool };
}

/** Throws an Error saying what is missing and how to install it when samba / samba-tool are not available. */
export function assertSambaInstalled(): void {
  sambaBinaries();
}

/** A random password that satisfies AD's default complexity rules (length, 4 character classes). */
function strongPassword(): string {
  return `Gh!${randomBytes(18).toString('base64url')}-7qZ`;
}

/** TLS options that verify the DC's certificate against its own CA and its certificate name. */
export function sambaTlsOptions(dc: Pick<SambaDc, 'caPem' | 'serverName'>): ConnectionOptions {
  return { ca: [dc.caPem], servername: dc.serverName, minVersion: 'TLSv1.2' };
}

/** Opens an LDAPS connection (certificate verified) and binds as the domain Administrator. */
export async function connectAsAdmin(dc: SambaDc): Promise<Client> {
  const client = new Client({
    url: dc.ldapsUrl,
    tlsOptions: sambaTlsOptions(dc),
    connectTimeout: 5_000,
    timeout: 30_000,
  });
  try {
    await client.bind(dc.adminDn, dc.adminPassword);
  } catch (err) {
    await client.unbind().catch(() => undefined);
    throw err;
  }
  return client;
}

// ---------------------------------------------------------------------------------------------------
// /proc helpers (Linux only, like samba-ad-dc itself)
// ---------------------------------------------------------------------------------------------------

interface ProcInfo {
  pid: number;
  pgid: number;
  state: string;
  /** Start time in clock ticks since boot (field 22); tells a process from a later one with the same PID. */
  startTime: string;
}

function readProcStat(pid: number): ProcInfo | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid pgrp ..." - comm may contain spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { pid, state: fields[0] ?? '?', pgid: Number(fields[2]), startTime: fields[19] ?? '' };
  } catch {
    return undefined;
  }
}

function listPids(): number[] {
  try {
    return readdirSync('/proc')
      .filter((name) => /^\d+$/.test(name))
      .map(Number);
  } catch {
    return [];
  }
}

function readLink(p: string): string | undefined {
  try {
    return readlinkSync(p).replace(/ \(deleted\)$/, '');
  } catch {
    return undefined;
  }
}

/** Live (non-zombie) members of a process group. */
function processGroupMembers(pgid: number): number[] {
  return listPids().filter((pid) => {
    const info = readProcStat(pid);
    return info !== undefined && info.pgid === pgid && info.state !== 'Z' && info.state !== 'X';
  });
}

function isAlive(pid: number): boolean {
  const info = readProcStat(pid);
  if (info) return info.state !== 'Z' && info.state !== 'X';
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function realTmpDir(): string {
  try {
    return realpathSync(tmpdir());
  } catch {
    return tmpdir();
  }
}

/** The Gatehouse test dir a path belongs to, if any. */
function gatehouseDirOf(p: string, tmpRoot: string): string | undefined {
  const rel = path.relative(tmpRoot, p);
  if (!rel.startsWith('..') && !path.isAbsolute(rel)) {
    const first = rel.split(path.sep)[0] ?? '';
    if (first.startsWith(SAMBA_DIR_PREFIX)) return path.join(tmpRoot, first);
  }
  return undefined;
}

/**
 * If `pid` is a samba process that belongs to a Gatehouse test DC, the DC's dir. Samba rewrites its
 * command line ("samba: task[ldap] pre-forked worker(0)"), so the dir is found from the process's cwd
 * (we start samba inside its dir) and the files it has open.
 */
function gatehouseSambaDir(pid: number, sambaExe: string | undefined, tmpRoot: string): string | undefined {
  const exe = readLink(`/proc/${pid}/exe`);
  if (!exe || path.basename(exe) !== 'samba' || (sambaExe && exe !== sambaExe)) return undefined;
  const cwd = readLink(`/proc/${pid}/cwd`);
  if (cwd) {
    const dir = gatehouseDirOf(cwd, tmpRoot);
    if (dir) return dir;
    if (existsSync(path.join(cwd, MARKER_FILE))) return cwd;
  }
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return undefined;
  }
  for (const fd of fds) {
    const target = readLink(`/proc/${pid}/fd/${fd}`);
    const dir = target && gatehouseDirOf(target, tmpRoot);
    if (dir) return dir;
  }
  return undefined;
}

/** PIDs of processes with a listening TCP socket on one of `ports` (any address). */
function listeningPids(ports: number[]): Map<number, number[]> {
  const inodeToPort = new Map<string, number>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10 || cols[3] !== '0A') continue; // 0A = LISTEN
      const port = parseInt((cols[1] ?? '').split(':').pop() ?? '', 16);
      if (ports.includes(port)) inodeToPort.set(cols[9] ?? '', port);
    }
  }
  const result = new Map<number, number[]>();
  if (inodeToPort.size === 0) return result;
  for (const pid of listPids()) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      const m = /^socket:\[(\d+)\]$/.exec(readLink(`/proc/${pid}/fd/${fd}`) ?? '');
      const port = m && inodeToPort.get(m[1] ?? '');
      if (port) result.set(pid, [...(result.get(pid) ?? []), port]);
    }
  }
  return result;
}

function describeProcess(pid: number): string {
  let cmd = '';
  try {
    cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0+/g, ' ').trim();
  } catch {
    // gone
  }
  return `pid ${pid} (${readLink(`/proc/${pid}/exe`) ?? '?'}: ${cmd || '?'})`;
}

function isPortOpen(port: number, host = HOST, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

async function waitUntil(cond: () => boolean | Promise<boolean>, timeoutMs: number, stepMs = 100): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return true;
    if (Date.now() >= deadline) return false;
    await delay(stepMs);
  }
}

async function killProcessGroup(pgid: number, timeoutMs = STOP_TIMEOUT_MS): Promise<void> {
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pgid, sig);
    } catch {
      // group already gone
    }
  };
  const gone = () => processGroupMembers(pgid).length === 0 && !isAlive(pgid);
  if (gone()) return;
  signal('SIGTERM');
  if (await waitUntil(gone, timeoutMs)) return;
  signal('SIGKILL');
  if (await waitUntil(gone, 5_000)) return;
  throw new Error(
    `samba process group ${pgid} did not exit: ${processGroupMembers(pgid).map(describeProcess).join('; ')}`,
  );
}

/**
 * Kills Samba processes of Gatehouse test DCs (from earlier or crashed runs) that hold the LDAP ports,
 * together with their process groups. Processes that are not Gatehouse test Samba are left alone;
 * if one of them holds a port, this throws.
 */
async function clearLdapPorts(sambaExe: string): Promise<void> {
  const tmpRoot = realTmpDir();
  let exe: string | undefined;
  try {
    exe = realpathSync(sambaExe);
  } catch {
    exe = undefined;
  }
  const holders = listeningPids(SAMBA_LDAP_PORTS);
  const groups = new Set<number>();
  const loners = new Set<number>();
  const staleDirs = new Set<string>();
  const foreign: string[] = [];
  for (const [pid, ports] of holders) {
    const dir = pid === process.pid ? undefined : gatehouseSambaDir(pid, exe, tmpRoot);
    if (!dir) {
      foreign.push(`${describeProcess(pid)} on port ${ports.join(', ')}`);
      continue;
    }
    staleDirs.add(dir);
    const info = readProcStat(pid);
    // Kill the whole group if its leader is a Gatehouse samba too (`samba -i` leads its own group).
    if (info && info.pgid > 1 && gatehouseSambaDir(info.pgid, exe, tmpRoot)) groups.add(info.pgid);
    else loners.add(pid);
  }
  if (foreign.length > 0) {
    throw new Error(
      `Cannot start the test Samba DC: the LDAP ports are held by processes that are not Gatehouse test DCs: ` +
        `${foreign.join('; ')}. Stop them first (e.g. "systemctl stop samba-ad-dc" for the system DC).`,
    );
  }
  for (const pgid of groups) {
    console.warn(`[samba-dc] killing stale Gatehouse test Samba (process group ${pgid})`);
    await killProcessGroup(pgid);
  }
  for (const pid of loners) {
    console.warn(`[samba-dc] killing stale Gatehouse test Samba process ${pid}`);
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
    await waitUntil(() => !isAlive(pid), 5_000);
  }
  for (const dir of staleDirs) {
    // Only auto-named dirs under the temp dir; a custom `dir` is left to its owner.
    if (gatehouseDirOf(dir, tmpRoot) === dir) await removeDir(dir).catch(() => undefined);
  }
  // Sockets close asynchronously; wait until nothing answers on the ports.
  const free = await waitUntil(
    async () => (await Promise.all(SAMBA_LDAP_PORTS.map((p) => isPortOpen(p)))).every((open) => !open),
    15_000,
    200,
  );
  if (!free) {
    const still = [...listeningPids(SAMBA_LDAP_PORTS).keys()].map(describeProcess).join('; ');
    throw new Error(
      `Cannot start the test Samba DC: ports ${SAMBA_LDAP_PORTS.join('/')} stay busy (${still || 'unknown holder'})`,
    );
  }
}

// ---------------------------------------------------------------------------------------------------
// Machine-wide lock
// ---------------------------------------------------------------------------------------------------

interface LockOwner {
  pid: number;
  startTime: string;
  dir: string;
}

function lockFile(): string {
  return path.join(realTmpDir(), LOCK_FILE_NAME);
}

function ownerAlive(owner: LockOwner): boolean {
  const info = readProcStat(owner.pid);
  return info !== undefined && info.state !== 'Z' && info.state !== 'X' && info.startTime === owner.startTime;
}

async function readLock(file: string): Promise<{ raw: string; owner?: LockOwner } | undefined> {
  try {
    const raw = await readFile(file, 'utf8');
    try {
      return { raw, owner: JSON.parse(raw) as LockOwner };
    } catch {
      return { raw };
    }
  } catch {
    return undefined;
  }
}

/**
 * Takes the machine-wide test-DC lock for `dir`. Samba's LDAP ports are fixed, so two test runs on one
 * machine cannot each have a DC: a second run waits (up to GATEHOUSE_TEST_SAMBA_WAIT_SECONDS, default
 * 600) for the first to stop its DC instead of killing it. A lock whose owner process is gone is stale
 * and taken over.
 */
async function acquireLock(dir: string): Promise<{ staleDirs: string[] }> {
  const file = lockFile();
  const waitSeconds = Number(process.env.GATEHOUSE_TEST_SAMBA_WAIT_SECONDS ?? DEFAULT_LOCK_WAIT_SECONDS);
  const deadline = Date.now() + (Number.isFinite(waitSeconds) ? waitSeconds : DEFAULT_LOCK_WAIT_SECONDS) * 1000;
  const me: LockOwner = { pid: process.pid, startTime: readProcStat(process.pid)?.startTime ?? '', dir };
  let announced = false;
  const staleDirs: string[] = [];
  for (;;) {
    try {
      await writeFile(file, JSON.stringify(me), { flag: 'wx', mode: 0o644 });
      return { staleDirs };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const current = await readLock(file);
    if (!current) continue; // released in the meantime
    const owner = current.owner;
    if (owner && owner.pid === process.pid && ownerAlive(owner)) {
      throw new Error(
        `startSambaDc: this process already runs a test Samba DC (${owner.dir}); stop it with stopSambaDc() first`,
      );
    }
    let stale = owner ? !ownerAlive(owner) : false;
    if (!owner) {
      // Unparsable: being written right now, or garbage left by a crash. Give a writer a moment.
      try {
        stale = Date.now() - statSync(file).mtimeMs > 5_000;
      } catch {
        continue;
      }
    }
    if (stale) {
      // Take over: move the file aside and make sure it is the stale one we looked at.
      const aside = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
      try {
        await rename(file, aside);
      } catch {
        continue;
      }
      const moved = await readLock(aside);
      if (moved && moved.raw !== current.raw) {
        // Somebody else's fresh lock: put it back.
        await link(aside, file).catch(() => undefined);
      } else if (owner?.dir) {
        staleDirs.push(owner.dir);
      }
      await rm(aside, { force: true });
      continue;
    }
    if (Date.now() >= deadline) {
      throw new Error(
        `startSambaDc: gave up waiting for the test Samba DC of another test run (pid ${owner?.pid ?? '?'}, ` +
          `dir ${owner?.dir ?? '?'}, lock ${file}); Samba's LDAP ports are fixed, so only one test run per machine ` +
          'can have a DC at a time. Set GATEHOUSE_TEST_SAMBA_WAIT_SECONDS to wait longer.',
      );
    }
    if (!announced) {
      announced = true;
      console.warn(
        `[samba-dc] another test run (pid ${owner?.pid ?? '?'}) is using the test Samba DC; waiting for it to finish`,
      );
    }
    await delay(500);
  }
}

/** Releases the lock if it belongs to the DC in `dir`. */
async function releaseLock(dir: string): Promise<void> {
  const file = lockFile();
  const current = await readLock(file);
  if (current?.owner && path.resolve(current.owner.dir) === path.resolve(dir)) await rm(file, { force: true });
}

// ---------------------------------------------------------------------------------------------------
// start / stop
// ---------------------------------------------------------------------------------------------------

async function tail(file: string, maxLines = 60, maxChars = 8_000): Promise<string> {
  try {
    const text = await readFile(file, 'utf8');
    return text.split('\n').slice(-maxLines).join('\n').slice(-maxChars);
  } catch (err) {
    return `(cannot read ${file}: ${(err as Error).message})`;
  }
}

function run(
  file: string,
  args: string[],
  options: { cwd: string; timeoutMs: number },
): Promise<{ code: number | null; output: string; error?: Error }> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      {
        cwd: options.cwd,
        timeout: options.timeoutMs,
        maxBuffer: 32 * 1024 * 1024,
        env: { ...process.env, LC_ALL: 'C' },
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ code, output: `${stdout}${stderr}`, error: error ?? undefined });
      },
    );
  });
}

function keepDir(): boolean {
  return process.env.GATEHOUSE_TEST_SAMBA_KEEP === '1';
}

async function removeDir(dir: string): Promise<void> {
  if (keepDir()) return;
  await rm(dir, { recursive: true, force: true, maxRetries: 3, retryDelay: 100 });
}

/**
 * Provisions a fresh Samba AD domain (HOSP.TEST) into a new temp dir (or `options.dir`, which must be
 * missing or empty), starts `samba -i` on loopback and resolves once a certificate-verified LDAPS bind as
 * the Administrator succeeds. Rejects (after killing samba) if that does not happen within 60 s; the
 * error contains the tail of samba's log.
 */
export async function startSambaDc(options: { dir?: string } = {}): Promise<SambaDc> {
  const bins = sambaBinaries();

  let dir: string;
  if (options.dir) {
    await mkdir(path.resolve(options.dir), { recursive: true });
    dir = realpathSync(path.resolve(options.dir));
    if ((await readdir(dir)).length > 0) throw new Error(`startSambaDc: dir ${dir} is not empty`);
  } else {
    dir = await mkdtemp(path.join(realTmpDir(), SAMBA_DIR_PREFIX));
  }
  await writeFile(path.join(dir, MARKER_FILE), `Gatehouse test Samba DC, started by pid ${process.pid}\n`);

  const adminPassword = strongPassword();
  let child: ChildProcess | undefined;
  let locked = false;
  try {
    const t0 = Date.now();
    const since = () => `${Date.now() - t0} ms`;
    const { staleDirs } = await acquireLock(dir);
    locked = true;
    debug(`lock acquired after ${since()}`);
    // We hold the lock, so whatever Gatehouse test Samba still holds the ports is left over from a dead run.
    await clearLdapPorts(bins.samba);
    for (const stale of staleDirs) {
      // The DC dir of a run that died (its samba exited with it); only auto-named dirs under the temp dir.
      if (gatehouseDirOf(stale, realTmpDir()) === stale) await removeDir(stale).catch(() => undefined);
    }
    debug(`LDAP ports free after ${since()}`);

    // Provision. An empty config file keeps the machine's /etc/samba/smb.conf out of the generated one.
    const emptyConf = path.join(dir, 'provision-base.conf');
    await writeFile(emptyConf, '');
    const provisionLog = path.join(dir, 'provision.log');
    const provision = await run(
      bins.sambaTool,
      [
        'domain',
        'provision',
        `--configfile=${emptyConf}`,
        `--realm=${REALM}`,
        `--domain=${DOMAIN}`,
        '--server-role=dc',
        '--dns-backend=NONE',
        '--use-rfc2307',
        `--adminpass=${adminPassword}`,
        `--targetdir=${dir}`,
        `--host-name=${HOST_NAME}`,
        '--option=interfaces=lo',
        '--option=bind interfaces only=yes',
        '--option=server services=ldap',
        '--option=ldap server require strong auth=yes',
        '--option=tls enabled=yes',
        `--option=pid directory=${path.join(dir, 'run')}`,
        `--option=log file=${path.join(dir, 'log', 'log.%m')}`,
        `--option=ncalrpc dir=${path.join(dir, 'run', 'ncalrpc')}`,
        `--option=winbindd socket directory=${path.join(dir, 'run', 'winbindd')}`,
        `--option=ntp signd socket directory=${path.join(dir, 'run', 'ntp_signd')}`,
      ],
      { cwd: dir, timeoutMs: PROVISION_TIMEOUT_MS },
    );
    await writeFile(provisionLog, provision.output);
    if (provision.code !== 0) {
      throw new Error(
        `samba-tool domain provision failed (${provision.error?.message ?? `exit ${provision.code}`}); ` +
          `tail of its output:\n${provision.output.split('\n').slice(-40).join('\n')}`,
      );
    }
    debug(`provisioned ${dir} after ${since()}`);
    await mkdir(path.join(dir, 'run'), { recursive: true });
    await mkdir(path.join(dir, 'log'), { recursive: true });

    // Start samba in the foreground. stdin stays an open pipe: `samba -i` exits when it reaches EOF,
    // i.e. when this process goes away. detached => it leads its own process group (killed as a whole).
    const logFile = path.join(dir, 'samba.log');
    const log = await open(logFile, 'a');
    try {
      child = spawn(bins.samba, ['-i', '--debuglevel=1', '-s', path.join(dir, 'etc', 'smb.conf')], {
        cwd: dir,
        detached: true,
        stdio: ['pipe', log.fd, log.fd],
        env: { ...process.env, LC_ALL: 'C' },
      });
    } finally {
      await log.close();
    }
    const started = child;
    const status: { exitInfo?: string; spawnError?: Error } = {};
    started.once('error', (err) => (status.spawnError = err));
    started.once('exit', (code, sig) => {
      status.exitInfo = `samba exited during start-up (code ${code}, signal ${sig})`;
      if (started.pid !== undefined) ownChildren.delete(started.pid);
    });
    // Never keep the test process alive because of the DC; if the process exits, samba sees EOF and exits.
    started.stdin?.on('error', () => undefined);
    started.unref();
    (started.stdin as unknown as { unref?: () => void } | null)?.unref?.();

    await waitUntil(() => started.pid !== undefined || status.spawnError !== undefined, 5_000, 10);
    if (started.pid === undefined) throw status.spawnError ?? new Error(`could not spawn ${bins.samba}`);
    ownChildren.set(started.pid, started);

    const caFile = path.join(dir, 'private', 'tls', 'ca.pem');
    const dc: SambaDc = {
      dir,
      realm: REALM,
      domain: DOMAIN,
      baseDn: BASE_DN,
      host: HOST,
      serverName: SERVER_NAME,
      ldapsUrl: `ldaps://${HOST}:${LDAPS_PORT}`,
      ldapUrl: `ldap://${HOST}:${LDAP_PORT}`,
      caFile,
      caPem: '',
      adminDn: `CN=Administrator,CN=Users,${BASE_DN}`,
      adminPassword,
      pid: started.pid,
    };

    const deadline = Date.now() + STARTUP_TIMEOUT_MS;
    let lastError = 'no attempt yet';
    for (;;) {
      if (status.spawnError) throw status.spawnError;
      if (status.exitInfo) throw new Error(`${status.exitInfo}; tail of ${logFile}:\n${await tail(logFile)}`);
      if (existsSync(caFile)) {
        try {
          // Re-read every attempt: samba writes the CA while it starts.
          dc.caPem = await readFile(caFile, 'utf8');
          const client = await connectAsAdmin(dc);
          await client.unbind();
          debug(`samba pid ${dc.pid} accepted a verified LDAPS bind after ${since()}`);
          return dc;
        } catch (err) {
          lastError = (err as Error).message;
        }
      } else {
        lastError = `${caFile} not created yet`;
      }
      if (Date.now() >= deadline) {
        throw new Error(
          `Samba DC did not accept a verified LDAPS bind on ${dc.ldapsUrl} within ${STARTUP_TIMEOUT_MS / 1000} s ` +
            `(last error: ${lastError}); tail of ${logFile}:\n${await tail(logFile)}`,
        );
      }
      await delay(200);
    }
  } catch (err) {
    if (child?.pid !== undefined) {
      await killProcessGroup(child.pid).catch(() => undefined);
      ownChildren.delete(child.pid);
    }
    if (locked) await releaseLock(dir).catch(() => undefined);
    await removeDir(dir).catch(() => undefined);
    throw err;
  }
}

/**
 * Stops the DC: SIGTERM to samba's process group (SIGKILL after 15 s), waits until every process of the
 * group is gone, then removes the DC's dir. Works from any process that has the description (e.g. one
 * read with readSambaInfo), but refuses to signal a PID that is no longer this DC's samba.
 */
export async function stopSambaDc(dc: SambaDc): Promise<void> {
  const child = ownChildren.get(dc.pid);
  const tmpRoot = realTmpDir();
  const leaderDir = gatehouseSambaDir(dc.pid, undefined, tmpRoot);
  const ours = child !== undefined || (leaderDir !== undefined && path.resolve(leaderDir) === path.resolve(dc.dir));
  if (ours) {
    const exited =
      child && child.exitCode === null && child.signalCode === null
        ? new Promise<void>((resolve) => child.once('exit', () => resolve()))
        : Promise.resolve();
    child?.stdin?.destroy();
    await killProcessGroup(dc.pid);
    // Let Node reap the child (no zombie left behind); do not leave a timer running afterwards.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([exited, new Promise<void>((resolve) => (timer = setTimeout(resolve, 2_000)))]);
    clearTimeout(timer);
    ownChildren.delete(dc.pid);
  } else if (isAlive(dc.pid)) {
    throw new Error(`stopSambaDc: pid ${dc.pid} is not the Samba DC of ${dc.dir}; not killing it`);
  }
  await releaseLock(dc.dir);
  await removeDir(dc.dir);
}

// ---------------------------------------------------------------------------------------------------
// Sharing the description between Jest's globalSetup and test workers
// ---------------------------------------------------------------------------------------------------

/** Writes the DC's description as JSON (mode 0600: it contains the admin password). */
export async function writeSambaInfo(dc: SambaDc, file: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(dc, null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, file);
}

const STRING_FIELDS = [
  'dir',
  'realm',
  'domain',
  'baseDn',
  'host',
  'serverName',
  'ldapsUrl',
  'ldapUrl',
  'caFile',
  'caPem',
  'adminDn',
  'adminPassword',
] as const;

/** Reads a description written by writeSambaInfo(). */
export async function readSambaInfo(file: string): Promise<SambaDc> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new Error(
      `Cannot read the test Samba DC description from ${file} (${(err as Error).message}); ` +
        'it is written by the Jest globalSetup (test/support/global-setup.ts) - run the tests with npm test',
      { cause: err },
    );
  }
  const data = JSON.parse(text) as Record<string, unknown>;
  for (const key of STRING_FIELDS) {
    if (typeof data[key] !== 'string' || data[key] === '') {
      throw new Error(`Invalid test Samba DC description in ${file}: field "${key}" is missing`);
    }
  }
  if (typeof data.pid !== 'number' || !Number.isInteger(data.pid) || data.pid <= 0) {
    throw new Error(`Invalid test Samba DC description in ${file}: field "pid" is missing`);
  }
  return data as unknown as SambaDc;
}
