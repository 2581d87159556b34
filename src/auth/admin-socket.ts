import { chmodSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join, resolve } from 'node:path';
import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { streamPrune } from '../audit/audit-prune-socket.js';
import { AuditPruneService } from '../audit/audit-prune.service.js';
import { AuditService } from '../audit/audit.service.js';
import { BackupStreamService } from '../backup/backup-stream.service.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { Database } from '../database/database.js';
import { normalizeUsername } from '../users/users.service.js';
import { LoginThrottleService } from './login-throttle.service.js';

/** The admin socket of a server on the embedded database: in the data folder's private `run/`. */
export function adminSocketPath(config: Pick<AppConfig, 'GATEHOUSE_DATA_DIR'>): string {
  return join(resolve(config.GATEHOUSE_DATA_DIR), 'run', 'admin.sock');
}

const MAX_BODY = 4096;

/**
 * The embedded database serves one process, so the CLI cannot open it while the server runs.
 * The server therefore takes the CLI's commands `user:unlock`, `backup` and `audit:prune` on a
 * Unix socket in the data folder: its folder is 0700 and the socket 0600, so only the service's
 * user (and root) can connect — the same people who could stop the server and open the folder anyway.
 * Not on PostgreSQL: there the CLI opens the database itself.
 */
@Injectable()
export class AdminSocket implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('AdminSocket');
  private server?: Server;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly database: Database,
    private readonly throttle: LoginThrottleService,
    private readonly audit: AuditService,
    private readonly backup: BackupStreamService,
    private readonly prune: AuditPruneService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.database.kind !== 'embedded') return;
    const path = adminSocketPath(this.config);
    rmSync(path, { force: true }); // a crashed server's; the data folder lock is ours
    const server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((done, fail) => {
      server.once('error', fail);
      server.listen(path, () => done());
    });
    chmodSync(path, 0o600);
    this.server = server;
  }

  async beforeApplicationShutdown(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((done) => server.close(() => done()));
    rmSync(adminSocketPath(this.config), { force: true });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    try {
      // `backup`: the backup's lines from one snapshot, streamed (src/backup/).
      if (req.method === 'POST' && req.url === '/backup') return await this.backup.stream(res);
      // `audit:prune`: the server verifies, archives and prunes, streaming its progress (src/audit/).
      if (req.method === 'POST' && req.url === '/audit/prune') return await streamPrune(this.prune, res, this.logger);
      if (req.method !== 'POST' || req.url !== '/unlock') return reply(404, { error: 'unknown command' });
      const body = JSON.parse(await readBody(req)) as { username?: unknown };
      if (typeof body.username !== 'string' || body.username.length === 0 || body.username.length > 256) {
        return reply(400, { error: 'username expected' });
      }
      const username = normalizeUsername(body.username);
      const unlocked = await this.throttle.unlock(username);
      if (unlocked) {
        await this.audit.append({
          eventType: 'user.unlocked',
          actorType: 'system',
          actorId: 'cli',
          outcome: 'success',
          details: { username, via: 'admin-socket' },
        });
      }
      reply(200, { username, unlocked });
    } catch (error) {
      this.logger.error(`Admin socket command failed: ${(error as Error).message}`);
      reply(500, { error: (error as Error).message });
    }
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((done, fail) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      text += chunk;
      if (text.length > MAX_BODY) req.destroy(new Error('body too large'));
    });
    req.on('end', () => done(text));
    req.on('error', fail);
  });
}
