import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { createApp } from './app.factory.js';
import { ConfigError, loadConfig } from './config/config.schema.js';

async function main(): Promise<void> {
  // A .env file in the working folder, when there is one (the environment wins).
  if (existsSync('.env')) process.loadEnvFile('.env');
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\nSee .env.example for every setting.\n`);
      process.exit(2);
    }
    throw error;
  }
  const gatehouse = await createApp(config);
  const { app, logger } = gatehouse;
  await app.listen({ port: config.PORT, host: config.HOST });
  logger.info(
    {
      port: config.PORT,
      host: config.HOST,
      tls: Boolean(config.tls),
      database: config.DATABASE_URL ? 'postgres' : 'embedded',
    },
    `Gatehouse listening on ${config.tls ? 'https' : 'http'}://${config.HOST}:${config.PORT} (docs at /api/docs)`,
  );
  // Graceful shutdown: new requests get 503 while those in flight finish, then the server and
  // the database close (src/common/graceful-shutdown.ts). A hung request must not keep the
  // process alive forever.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      setTimeout(() => {
        logger.error(`Shutdown took longer than ${config.SHUTDOWN_GRACE_SECONDS}s: exiting`);
        process.exit(1);
      }, config.SHUTDOWN_GRACE_SECONDS * 1000).unref();
      logger.info(`${signal}: answering 503 to new requests while those in flight finish`);
      gatehouse.stop().then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error(`Shutdown failed: ${error instanceof Error ? error.message : String(error)}`);
          process.exit(1);
        },
      );
    });
  }
}

main().catch((error: unknown) => {
  // A setting that validated but could not be used (METRICS_LISTEN's address taken): as above.
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\nSee .env.example for every setting.\n`);
    process.exit(2);
  }
  process.stderr.write(`Gatehouse could not start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
