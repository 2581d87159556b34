import { chmodSync, existsSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import {
  compileWasmOnce,
  createEmptyDatabase,
  embeddedStartParams,
  type EmbeddedMemorySettings,
} from './embedded-memory.js';

/**
 * The embedded default: PGlite (PostgreSQL compiled to WebAssembly) in this process,
 * persisted under GATEHOUSE_DATA_DIR and served on a private Unix socket so that the
 * ordinary `pg` driver and the same migrations work unchanged.
 */
export class EmbeddedPostgres {
  private constructor(
    private readonly db: PGlite,
    private readonly server: PGLiteSocketServer,
    readonly socketDir: string,
    private readonly lock: DataDirLock,
  ) {}

  static async start(
    dataDir: string,
    maxConnections: number,
    memory: EmbeddedMemorySettings,
  ): Promise<EmbeddedPostgres> {
    const root = resolve(dataDir);
    mkdirSync(root, { recursive: true });
    const lock = DataDirLock.take(root);
    try {
      return await EmbeddedPostgres.open(root, maxConnections, memory, lock);
    } catch (error) {
      lock.release();
      throw error;
    }
  }

  private static async open(
    root: string,
    maxConnections: number,
    memory: EmbeddedMemorySettings,
    lock: DataDirLock,
  ): Promise<EmbeddedPostgres> {
    const pgdata = resolve(root, 'pgdata');
    const socketDir = resolve(root, 'run');
    mkdirSync(pgdata, { recursive: true });
    mkdirSync(socketDir, { recursive: true });
    // Only this process's user may reach the socket: PGlite has no passwords.
    chmodSync(socketDir, 0o700);
    const socketPath = resolve(socketDir, '.s.PGSQL.5432');
    await rm(socketPath, { force: true });
    // A new folder is initialised in a short-lived child process: initdb grows PGlite's
    // WebAssembly memory to ~700 MB, which a WebAssembly.Memory never gives back.
    if (!existsSync(resolve(pgdata, 'PG_VERSION'))) await createEmptyDatabase(pgdata, memory);
    if (!memory.wasmTierUp) compileWasmOnce();
    const db = await PGlite.create({ dataDir: pgdata, startParams: embeddedStartParams(memory) });
    const server = new PGLiteSocketServer({ db, path: socketPath, maxConnections });
    await server.start();
    return new EmbeddedPostgres(db, server, socketDir, lock);
  }

  /** Connection options for the `pg` driver. */
  connectionOptions(): { host: string; port: number; username: string; database: string } {
    return { host: this.socketDir, port: 5432, username: 'postgres', database: 'postgres' };
  }

  async stop(): Promise<void> {
    try {
      await this.server.stop();
      await this.db.close();
    } finally {
      this.lock.release();
    }
  }
}

/**
 * PGlite is a database inside one process: a second process (or a second instance in
 * this one) opening the same folder would not see the first one's writes and could
 * corrupt them. So the folder is locked. The lock file names the holder (process, host,
 * boot) and appears whole (written aside, then hard-linked into place, which fails if one
 * exists). It is taken over only when its holder is provably gone: same host and boot and
 * that process no longer exists, or same host after a reboot. Another host or container
 * (a shared volume), or a file that cannot be read, counts as held.
 */
class DataDirLock {
  private static readonly heldHere = new Set<string>();

  private constructor(private readonly file: string) {}

  static take(root: string): DataDirLock {
    const file = resolve(root, 'gatehouse.lock');
    if (DataDirLock.heldHere.has(file)) throw inUse(file, 'this process');
    const me: Holder = { pid: process.pid, host: hostname(), boot: bootId() };
    const temp = `${file}.${process.pid}.${Date.now()}`;
    writeFileSync(temp, JSON.stringify(me), { mode: 0o600 });
    try {
      for (let attempt = 0; attempt < 2; attempt++) {
        try {
          linkSync(temp, file);
          DataDirLock.heldHere.add(file);
          return new DataDirLock(file);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
          const holder = readHolder(file);
          if (!holder || !isGone(holder, me)) {
            throw inUse(file, holder ? `process ${holder.pid} on ${holder.host}` : 'an unknown process');
          }
          rmSync(file, { force: true });
        }
      }
      throw inUse(file, 'another process starting at the same time');
    } finally {
      rmSync(temp, { force: true });
    }
  }

  release(): void {
    if (!DataDirLock.heldHere.delete(this.file)) return;
    rmSync(this.file, { force: true });
  }
}

interface Holder {
  pid: number;
  host: string;
  boot: string;
}

function readHolder(file: string): Holder | undefined {
  try {
    const h = JSON.parse(readFileSync(file, 'utf8')) as Partial<Holder>;
    return typeof h.pid === 'number' && typeof h.host === 'string' && typeof h.boot === 'string'
      ? (h as Holder)
      : undefined;
  } catch {
    return undefined;
  }
}

function isGone(holder: Holder, me: Holder): boolean {
  if (holder.host !== me.host) return false;
  if (holder.boot !== me.boot) return true; // the machine restarted since
  if (holder.pid === me.pid) return false; // this process, another instance: in use
  try {
    process.kill(holder.pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** The kernel's id of this boot (Linux); elsewhere a constant, so only the pid decides. */
function bootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return 'unknown';
  }
}

const inUse = (file: string, holder: string) =>
  new Error(
    `The embedded database is in use by ${holder} (a running Gatehouse?): lock file ${file}. ` +
      'Stop it first: the embedded database serves one process. To administer a running server, use PostgreSQL ' +
      '(DATABASE_URL). If no Gatehouse uses this folder any more, delete the lock file.',
  );
