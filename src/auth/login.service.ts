import { Inject, Injectable } from '@nestjs/common';
import { actorEvent, withOrigin, type Origin } from '../audit/actor.js';
import { AuditService } from '../audit/audit.service.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { DirectoryAuthService } from '../directory/directory-auth.service.js';
import type { UserEntity } from '../users/user.entity.js';
import { normalizeUsername, UsersService } from '../users/users.service.js';
import { LoginThrottleService, type LoginAttempt } from './login-throttle.service.js';
import { BUILTIN_ADMIN_GROUP } from './roles.js';
import { SessionsService } from './sessions.service.js';
import { TokenService } from './token.service.js';

export interface LoginResult {
  accessToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
}

/** Checks staff credentials (throttled and audited) and issues session tokens. */
@Injectable()
export class LoginService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly users: UsersService,
    private readonly throttle: LoginThrottleService,
    private readonly sessions: SessionsService,
    private readonly tokens: TokenService,
    private readonly audit: AuditService,
    private readonly directory: DirectoryAuthService,
  ) {}

  /** The name the throttle counts: the directory account a sign-in name stands for, else the name itself. */
  async throttleKey(rawUsername: string): Promise<string> {
    const username = normalizeUsername(rawUsername);
    if (await this.users.findByUsername(username)) return username;
    return (await this.directory.canonicalName(rawUsername)) ?? username;
  }

  /** Counts a sign-in attempt; a 429 (audited) while the name is in back-off or locked for this address. */
  async beginAttempt(username: string, origin: Origin): Promise<LoginAttempt> {
    try {
      return await this.throttle.begin(username, origin.address, await this.isBreakGlass(username));
    } catch (error) {
      await this.auditFailure(username, origin, 'throttled');
      throw error;
    }
  }

  /** A local member of the local group gatehouse-admins: always an administrator, never locked out for good. */
  private isBreakGlass(username: string): Promise<boolean> {
    return this.users.isLocalMemberOfLocalGroup(username, BUILTIN_ADMIN_GROUP);
  }

  /** Whether this throttle key is a directory account (its password is checked by a bind). */
  async isDirectoryAccount(key: string): Promise<boolean> {
    return (await this.users.findByUsername(key))?.source === 'directory';
  }

  async withdrawAttempt(key: string, attempt: LoginAttempt, origin: Origin): Promise<void> {
    await this.throttle.withdraw(key, origin.address, attempt);
  }

  async failAttempt(username: string, attempt: LoginAttempt, origin: Origin, reason: string): Promise<void> {
    await this.throttle.failed(username, origin.address, attempt);
    await this.auditFailure(username, origin, reason);
  }

  async succeeded(username: string, origin: Origin): Promise<void> {
    await this.throttle.succeeded(username, origin.address);
  }

  async auditFailure(
    username: string,
    origin: Origin,
    reason: string,
    extra: Record<string, unknown> = {},
  ): Promise<void> {
    await this.audit.append(
      withOrigin(
        {
          eventType: 'auth.login',
          actorType: 'anonymous',
          actorId: username.slice(0, 256),
          outcome: 'failure',
          details: { reason, ...extra },
        },
        origin,
      ),
    );
  }

  async issue(user: UserEntity, origin: Origin): Promise<LoginResult> {
    const session = await this.sessions.open(user.id, origin.address);
    const accessToken = await this.tokens.sign({ sub: user.id, sid: session.id }, session.expiresAt);
    await this.audit.append(
      actorEvent({ type: 'user', id: user.username, origin }, 'auth.login', {
        details: { sessionId: session.id, source: user.source },
      }),
    );
    return { accessToken, tokenType: 'Bearer', expiresIn: this.config.SESSION_TTL_MINUTES * 60 };
  }

  async logout(user: UserEntity, sessionId: string, origin: Origin): Promise<void> {
    await this.sessions.revoke(sessionId);
    await this.audit.append(
      actorEvent({ type: 'user', id: user.username, origin }, 'auth.logout', { details: { sessionId } }),
    );
  }
}
