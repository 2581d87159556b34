import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { deleteSetting, readSetting, writeSetting } from '../database/settings.js';
import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { ApiError, ErrorCode } from '../common/api-error.js';
import { withOrigin, type Origin } from '../audit/actor.js';
import { AuditService } from '../audit/audit.service.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { UsersService } from '../users/users.service.js';
import { BUILTIN_ADMIN_GROUP } from './roles.js';

const SETUP_TOKEN_SETTING = 'setup_token_sha256';
const SETUP_LOCK_KEY = 0x7365_7475; // "setu"

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/**
 * First start: no default credentials. With GATEHOUSE_ADMIN_PASSWORD the first
 * administrator is created from it; without, a one-time setup token is printed once
 * and POST /api/v1/auth/setup creates the administrator with it.
 */
@Injectable()
export class SetupService implements OnApplicationBootstrap {
  private readonly logger = new Logger('Setup');

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly dataSource: DataSource,
    private readonly users: UsersService,
    private readonly audit: AuditService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      // Replicas starting together: one of them does the first-start work.
      await m.query('SELECT pg_advisory_xact_lock($1)', [SETUP_LOCK_KEY]);
      if (!(await this.isEmpty(m))) return;
      const password = this.config.GATEHOUSE_ADMIN_PASSWORD;
      if (password) {
        await this.users.createLocalUser(
          { username: this.config.GATEHOUSE_ADMIN_USERNAME, password, groups: [BUILTIN_ADMIN_GROUP] },
          { type: 'system', id: 'setup' },
          m,
        );
        this.logger.log(
          `Created the first administrator '${this.config.GATEHOUSE_ADMIN_USERNAME}' from GATEHOUSE_ADMIN_PASSWORD`,
        );
        return;
      }
      const token = randomBytes(24).toString('base64url');
      await writeSetting(m, SETUP_TOKEN_SETTING, sha256(token));
      // Printed once: only its hash is stored, and a restart replaces it.
      this.logger.warn(
        `No administrator exists yet. One-time setup token: ${token}  — create the first administrator with ` +
          `POST /api/v1/auth/setup {"setupToken", "username", "password"}, or restart with GATEHOUSE_ADMIN_PASSWORD set.`,
      );
    });
  }

  async isSetupRequired(): Promise<boolean> {
    return this.isEmpty(this.dataSource.manager);
  }

  async completeSetup(
    input: { setupToken: string; username: string; displayName?: string; password: string },
    origin: Origin,
  ): Promise<void> {
    const done = await this.dataSource.transaction(async (m) => {
      await m.query('SELECT pg_advisory_xact_lock($1)', [SETUP_LOCK_KEY]);
      const expected = (await readSetting<string>(m, SETUP_TOKEN_SETTING)) ?? undefined;
      const given = sha256(input.setupToken);
      const valid = expected !== undefined && timingSafeEqual(Buffer.from(expected), Buffer.from(given));
      if (!valid || !(await this.isEmpty(m))) return false;
      await this.users.createLocalUser(
        {
          username: input.username,
          displayName: input.displayName,
          password: input.password,
          groups: [BUILTIN_ADMIN_GROUP],
        },
        { type: 'system', id: 'setup', origin },
        m,
      );
      await deleteSetting(m, SETUP_TOKEN_SETTING);
      await this.audit.appendIn(
        m,
        withOrigin(
          {
            eventType: 'setup.admin_created',
            actorType: 'anonymous',
            outcome: 'success',
            details: { username: input.username.toLowerCase() },
          },
          origin,
        ),
      );
      return true;
    });
    if (!done) {
      await this.audit.append(
        withOrigin({ eventType: 'setup.admin_created', actorType: 'anonymous', outcome: 'failure' }, origin),
      );
      throw new ApiError(ErrorCode.Forbidden, 'The setup token is not valid, or setup is already complete');
    }
  }

  private async isEmpty(m: EntityManager): Promise<boolean> {
    return !(await this.users.anyExist(m));
  }
}
