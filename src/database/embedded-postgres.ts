import { chmodSync, mkdirSync } from 'node:fs';
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
  ) {}

  static async start(dataDir: string, maxConnections: number): Promise<EmbeddedPostgres> {
    const root = resolve(dataDir);
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
    return new EmbeddedPostgres(db, server, socketDir);
  }

  /** Connection options for the `pg` driver. */
  connectionOptions(): { host: string; port: number; username: string; database: string } {
    return { host: this.socketDir, port: 5432, username: 'postgres', database: 'postgres' };
  }

  async stop(): Promise<void> {
    await this.server.stop();
    await this.db.close();
  }
}
