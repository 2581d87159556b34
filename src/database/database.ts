import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { AppConfig } from '../config/config.schema.js';
import { createDataSource } from './data-source.js';
import { checkDurability } from './durability.js';
import { EmbeddedPostgres } from './embedded-postgres.js';
import { embeddedMemoryOf } from './embedded-memory.js';
import { runMigrations } from './migrate.js';
import { grantServerRole, restrictEmbeddedSession, roleOfUrl } from './server-role.js';

/** The pool's one connection, and one spare for a reconnect while the old socket closes. */
const EMBEDDED_SOCKET_CONNECTIONS = 2;

/** The open database: PostgreSQL from DATABASE_URL, or the embedded PGlite. */
export class Database {
  private constructor(
    readonly dataSource: DataSource,
    readonly embedded: EmbeddedPostgres | undefined,
  ) {}

  get kind(): 'postgres' | 'embedded' {
    return this.embedded ? 'embedded' : 'postgres';
  }

  static async open(
    config: AppConfig,
    options: { migrate: boolean; logger?: Logger } = { migrate: true },
  ): Promise<Database> {
    const logger = options.logger ?? new Logger('Database');
    const embedded = config.DATABASE_URL
      ? undefined
      : await EmbeddedPostgres.start(config.GATEHOUSE_DATA_DIR, EMBEDDED_SOCKET_CONNECTIONS, embeddedMemoryOf(config));
    if (embedded)
      logger.log(`Using the embedded database in ${config.GATEHOUSE_DATA_DIR} (set DATABASE_URL for PostgreSQL)`);
    const dataSource = createDataSource(config, embedded);
    try {
      await dataSource.initialize();
    } catch (error) {
      await embedded?.stop();
      throw new Error(
        `Cannot connect to the database${config.DATABASE_URL ? ' at DATABASE_URL' : ''}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    const db = new Database(dataSource, embedded);
    try {
      if (!embedded) {
        for (const problem of await checkDurability(dataSource, config.GATEHOUSE_ALLOW_UNSAFE_DURABILITY)) {
          logger.error(`UNSAFE: ${problem} (allowed by GATEHOUSE_ALLOW_UNSAFE_DURABILITY)`);
        }
      }
      if (options.migrate) {
        const applied = config.DATABASE_MIGRATION_URL
          ? await migrateAsOwner(config, config.DATABASE_MIGRATION_URL)
          : await runMigrations(dataSource, { lock: !embedded });
        if (applied.length > 0) logger.log(`Applied migrations: ${applied.join(', ')}`);
      }
      if (embedded) await restrictEmbeddedSession(dataSource);
    } catch (error) {
      await db.close();
      throw error;
    }
    return db;
  }

  private closing?: Promise<void>;

  /** Closes the connections and the embedded database; later calls wait for the first. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.dataSource.isInitialized) await this.dataSource.destroy();
      await this.embedded?.stop();
    })();
    return this.closing;
  }
}

/**
 * Migrations as the tables' owner (DATABASE_MIGRATION_URL), then the grants that let the server's
 * role (DATABASE_URL's user) work without owning anything; replicas take turns under the lock.
 */
async function migrateAsOwner(config: AppConfig, ownerUrl: string): Promise<string[]> {
  const serverRole = roleOfUrl(config.DATABASE_URL!);
  // Two connections: runMigrations holds its lock on one and migrates on the other.
  const owner = createDataSource({ DATABASE_URL: ownerUrl, DATABASE_POOL_SIZE: 2 });
  try {
    await owner.initialize();
  } catch (error) {
    throw new Error(`Cannot connect to the database at DATABASE_MIGRATION_URL: ${(error as Error).message}`, {
      cause: error,
    });
  }
  try {
    const applied = await runMigrations(owner, { lock: true });
    // INVARIANT: never revoke from the owner itself (it would lose its own rights on the audit tables).
    if (roleOfUrl(ownerUrl) !== serverRole) await grantServerRole(owner, serverRole);
    return applied;
  } finally {
    await owner.destroy();
  }
}
