import { Inject, Injectable } from '@nestjs/common';
import { ApiError, ErrorCode } from '../common/api-error.js';
import { AuditService } from '../audit/audit.service.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { verifyPassword } from '../users/passwords.js';
import type { UserEntity } from '../users/user.entity.js';
import { normalizeUsername, UsersService } from '../users/users.service.js';
import { LoginThrottleService } from './login-throttle.service.js';
import { SessionsService } from './sessions.service.js';
import { TokenService } from './token.service.js';

export interface LoginResult {
  accessToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
}

const INVALID_CREDENTIALS = 'Invalid user name or password';

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
  ) {}

  /** The user whose password this is; otherwise a 401 (or 429 while throttled), audited either way. */
  async authenticate(rawUsername: string, password: string, sourceAddress: string): Promise<UserEntity> {
    const username = normalizeUsername(rawUsername);
    let attempt: number;
    try {
      attempt = await this.throttle.begin(username);
    } catch (error) {
      await this.auditFailure(username, sourceAddress, 'throttled');
      throw error;
    }
    const user = await this.users.findByUsername(username);
    // Verify even for unknown or disabled users so the answer's timing reveals nothing.
    const passwordOk = await verifyPassword(user?.source === 'local' ? user.passwordHash : null, password);
    if (!user || !passwordOk || user.disabled) {
      await this.throttle.failed(username, attempt);
      const reason = !user ? 'unknown_user' : user.disabled ? 'disabled' : 'bad_password';
      await this.auditFailure(username, sourceAddress, reason);
      throw new ApiError(ErrorCode.Unauthenticated, INVALID_CREDENTIALS);
    }
    await this.throttle.succeeded(username);
    return user;
  }

  async auditFailure(username: string, sourceAddress: string, reason: string): Promise<void> {
    await this.audit.append({
      eventType: 'auth.login',
      actorType: 'anonymous',
      actorId: username.slice(0, 256),
      sourceAddress,
      outcome: 'failure',
      details: { reason },
    });
  }

  async issue(user: UserEntity, sourceAddress: string): Promise<LoginResult> {
    const session = await this.sessions.open(user.id, sourceAddress);
    const accessToken = await this.tokens.sign({ sub: user.id, sid: session.id }, session.expiresAt);
    await this.audit.append({
      eventType: 'auth.login',
      actorType: 'user',
      actorId: user.username,
      sourceAddress,
      outcome: 'success',
      details: { sessionId: session.id, source: user.source },
    });
    return { accessToken, tokenType: 'Bearer', expiresIn: this.config.SESSION_TTL_MINUTES * 60 };
  }

  async logout(user: UserEntity, sessionId: string, sourceAddress: string): Promise<void> {
    await this.sessions.revoke(sessionId);
    await this.audit.append({
      eventType: 'auth.logout',
      actorType: 'user',
      actorId: user.username,
      sourceAddress,
      outcome: 'success',
      details: { sessionId },
    });
  }
}
