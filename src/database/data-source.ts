import { DataSource, type DataSourceOptions } from 'typeorm';
import { MIGRATIONS } from '../../migrations/index.js';
import type { AppConfig } from '../config/config.schema.js';
import { ENTITIES } from './entities.js';
import type { EmbeddedPostgres } from './embedded-postgres.js';

export const MIGRATIONS_TABLE = 'gatehouse_migrations';

/** The one DataSource definition shared by the app, the CLI and the tests. */
export function dataSourceOptions(
  config: Pick<AppConfig, 'DATABASE_URL' | 'DATABASE_POOL_SIZE'>,
  embedded?: EmbeddedPostgres,
): DataSourceOptions {
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
    // PGlite is ONE session: pglite-socket interleaves the protocol messages of several
    // connections outside a transaction (one connection's Parse, another's Bind), which
    // mixes up concurrent parameterised queries. So the embedded database gets exactly one
    // connection; everything queues for it (PGlite runs one query at a time anyway). Code in
    // a transaction must use its EntityManager: another query would wait for the connection
    // the transaction holds, until connectionTimeoutMillis fails it.
    extra: {
      max: embedded ? 1 : config.DATABASE_POOL_SIZE,
      connectionTimeoutMillis: 10_000,
      application_name: 'gatehouse',
    },
  };
}

export function createDataSource(
  config: Pick<AppConfig, 'DATABASE_URL' | 'DATABASE_POOL_SIZE'>,
  embedded?: EmbeddedPostgres,
): DataSource {
  return new DataSource(dataSourceOptions(config, embedded));
}
