import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Clock } from '../common/clock.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { Database } from '../database/database.js';
import { linesInSnapshot } from './snapshot.js';
import { snapshotLines } from './snapshot-dump.js';

/**
 * The server's half of `backup` on the embedded database (which only the server's process can
 * open): the admin socket's `/backup` streams the backup's lines from one snapshot, and the
 * CLI compresses and writes the file. The server writes no file itself.
 */
@Injectable()
export class BackupStreamService {
  private readonly logger = new Logger('Backup');

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly dataSource: DataSource,
    private readonly database: Database,
    private readonly clock: Clock,
  ) {}

  async stream(res: ServerResponse): Promise<void> {
    const lines = linesInSnapshot(
      this.dataSource,
      (source) => snapshotLines(source, { database: this.database.kind, config: this.config, now: this.clock.now() }),
      { appendOnlyOutside: this.database.kind === 'embedded' },
    );
    try {
      for await (const line of lines) {
        if (!res.headersSent) res.writeHead(200, { 'content-type': 'application/x-ndjson' });
        if (!res.write(`${line}\n`)) await drained(res);
      }
      res.end();
      this.logger.log('Backup streamed through the admin socket');
    } catch (error) {
      this.logger.error(`Backup through the admin socket failed: ${(error as Error).message}`);
      // Cut the stream: the CLI sees it end before the tables the header announced.
      if (res.headersSent) res.destroy(error as Error);
      else
        res
          .writeHead(500, { 'content-type': 'application/json' })
          .end(JSON.stringify({ error: (error as Error).message }));
    }
  }
}

/** Waits until the socket takes more, or throws when the CLI is gone (no wait for ever). */
async function drained(res: ServerResponse): Promise<void> {
  // Closed already: no 'close' (nor 'drain') is coming, and the snapshot must not wait for one.
  if (res.destroyed) throw new Error('the CLI stopped reading (it went away)');
  const gone = once(res, 'close').then(() => {
    throw new Error('the CLI stopped reading (it went away)');
  });
  gone.catch(() => undefined);
  await Promise.race([once(res, 'drain'), gone]);
}
