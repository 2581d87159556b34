import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

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

  static async start(dataDir: string, maxConnections: number): Promise<EmbeddedPostgres> {
    const root = resolve(dataDir);
    mkdirSync(root, { recursive: true });
    const lock = DataDirLock.take(root);
    try {
      return await EmbeddedPostgres.open(root, maxConnections, lock);
    } catch (error) {
      lock.release();
      throw error;
    }
  }

  private static async open(root: string, maxConnections: number, lock: DataDirLock): Promise<EmbeddedPostgres> {
    const pgdata = resolve(root, 'pgdata');
    const socketDir = resolve(root, 'run');
    mkdirSync(pgdata, { recursive: true });
    mkdirSync(socketDir, { recursive: true });
    // Only this process's user may reach the socket: PGlite has no passwords.
    chmodSync(socketDir, 0o700);
    const socketPath = resolve(socketDir, '.s.PGSQL.5432');
    await rm(socketPath, { force: true });
    const db = await PGlite.create({ dataDir: pgdata });
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
 * corrupt them. So the folder is locked: a lock file names the process that holds it,
 * and a lock whose process has died is taken over.
 */
class DataDirLock {
  private static readonly heldHere = new Set<string>();

  private constructor(private readonly file: string) {}

  static take(root: string): DataDirLock {
    const file = resolve(root, 'gatehouse.lock');
    for (let attempt = 0; attempt < 2; attempt++) {
      if (DataDirLock.heldHere.has(file)) throw inUse(root, process.pid);
      try {
        writeFileSync(file, String(process.pid), { flag: 'wx', mode: 0o600 });
        DataDirLock.heldHere.add(file);
        return new DataDirLock(file);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const owner = Number(readFileSync(file, 'utf8').trim());
        if (owner !== process.pid && isAlive(owner)) throw inUse(root, owner);
        rmSync(file, { force: true }); // left by a process that died (or by this one, before a restart)
      }
    }
    throw inUse(root, NaN);
  }

  release(): void {
    if (!DataDirLock.heldHere.delete(this.file)) return;
    rmSync(this.file, { force: true });
  }
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const inUse = (root: string, pid: number) =>
  new Error(
    `The embedded database in ${root} is in use by process ${pid} (a running Gatehouse?). ` +
      'Stop it first: the embedded database serves one process. To administer a running server, use PostgreSQL (DATABASE_URL).',
  );
