import { Logger } from '@nestjs/common';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { MIGRATIONS } from '../../migrations/index.js';
import type { AppConfig } from '../config/config.schema.js';
import { ENTITIES } from './entities.js';
import type { EmbeddedPostgres } from './embedded-postgres.js';

export const MIGRATIONS_TABLE = 'gatehouse_migrations';

type DatabaseSettings = Pick<AppConfig, 'DATABASE_URL' | 'DATABASE_POOL_SIZE'> &
  Partial<Pick<AppConfig, 'DATABASE_TIMEOUT_MS' | 'DATABASE_STATEMENT_TIMEOUT_MS'>>;

/**
 * Every wait on PostgreSQL is bounded: a free connection (DATABASE_TIMEOUT_MS), and each
 * statement with its lock waits, on the server, plus the same bound on the client for a
 * server that stops answering (a frozen network keeps the socket open: no error ever comes).
 */
function postgresBounds(config: DatabaseSettings): Record<string, unknown> {
  const statementMs = config.DATABASE_STATEMENT_TIMEOUT_MS ?? 60_000;
  return {
    connectionTimeoutMillis: config.DATABASE_TIMEOUT_MS ?? 3000,
    keepAlive: true,
    ...(statementMs > 0
      ? {
          statement_timeout: statementMs,
          idle_in_transaction_session_timeout: statementMs,
          // A little later than the server's own limit, whose error names the statement.
          query_timeout: statementMs + 5000,
        }
      : {}),
  };
}

/** The one DataSource definition shared by the app, the CLI and the tests. */
export function dataSourceOptions(config: DatabaseSettings, embedded?: EmbeddedPostgres): DataSourceOptions {
  const connection = embedded ? embedded.connectionOptions() : { url: config.DATABASE_URL };
  return {
    type: 'postgres',
    ...connection,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: MIGRATIONS_TABLE,
    // gen_random_uuid() is built in; PGlite has no uuid-ossp, and extensions are the DBA's business.
    uuidExtension: 'pgcrypto',
    installExtensions: false,
    synchronize: false,
    migrationsRun: false,
    // An idle pooled connection that fails (server restart, pg_terminate_backend, a network
    // cut) is dropped by the pool and replaced on demand: logged here, never fatal, and not
    // left to TypeORM's logger, which is silent unless query logging is on.
    poolErrorHandler: (error: Error & { code?: string }) =>
      new Logger('Database').warn(
        `An idle database connection failed and was dropped (${error.code ?? 'no code'}): ${error.message}`,
      ),
    // PGlite is ONE session: pglite-socket interleaves the protocol messages of several
    // connections outside a transaction (one connection's Parse, another's Bind), which
    // mixes up concurrent parameterised queries. So the embedded database gets exactly one
    // connection; everything queues for it (PGlite runs one query at a time anyway). Code in
    // a transaction must use its EntityManager: another query would wait for the connection
    // the transaction holds, until connectionTimeoutMillis fails it.
    extra: {
      application_name: 'gatehouse',
      // The embedded database runs in this process: it cannot hang the way a network does.
      ...(embedded
        ? { max: 1, connectionTimeoutMillis: 10_000 }
        : { max: config.DATABASE_POOL_SIZE, ...postgresBounds(config) }),
    },
  };
}

export function createDataSource(config: DatabaseSettings, embedded?: EmbeddedPostgres): DataSource {
  return new DataSource(dataSourceOptions(config, embedded));
}
