import { Inject, Injectable, type ExecutionContext } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import { ApiError, ErrorCode } from '../common/api-error.js';
import { zodDetails } from '../common/zod-validation.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { DirectoryError } from '../directory/directory.errors.js';
import { loginSchema } from './login.dto.js';
import { LoginRefused } from './login-refused.js';
import { LoginService } from './login.service.js';
import { originOf } from './principal.js';

const INVALID_CREDENTIALS = 'Invalid user name or password';

/**
 * Sign-in: checks the body strictly (guards run before pipes), counts the attempt in the login
 * throttle BEFORE any password is checked (a throttled name never reaches argon2 or the
 * directory: no AD lockouts caused by Gatehouse), then runs Passport's local strategy and, for
 * names that are not local users, the directory strategy. Every failure is audited.
 */
@Injectable()
export class LoginGuard extends AuthGuard(['local', 'directory']) {
  constructor(
    private readonly login: LoginService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    super();
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const origin = originOf(request);
    const parsed = loginSchema.safeParse(request.body);
    if (!parsed.success) {
      const body = request.body as { username?: unknown } | undefined;
      const name = typeof body?.username === 'string' ? body.username : '(malformed)';
      await this.login.auditFailure(name, origin, 'invalid_request');
      throw new ApiError(ErrorCode.InvalidRequest, 'Invalid body', zodDetails(parsed.error));
    }
    const key = await this.login.throttleKey(parsed.data.username);
    const attempt = await this.login.beginAttempt(key, origin);
    // A directory account gets at most LDAP_MAX_FAILED_BINDS failed binds a window: below the
    // domain's lockout threshold, Gatehouse can never lock the account in AD.
    if (attempt.account > this.config.LDAP_MAX_FAILED_BINDS && (await this.login.isDirectoryAccount(key))) {
      await this.login.auditFailure(key, origin, 'throttled', { directoryBindsHeld: true });
      throw new ApiError(
        ErrorCode.RateLimited,
        `Too many failed sign-ins for this directory account: try again in ${this.config.LOGIN_LOCK_MINUTES} minutes ` +
          'or ask an administrator (Gatehouse stops before the directory would lock the account)',
      );
    }
    try {
      await super.canActivate(context);
    } catch (error) {
      if (error instanceof DirectoryError) {
        await this.login.withdrawAttempt(key, attempt, origin); // no password was checked
        await this.login.auditFailure(key, origin, 'directory_unavailable', { error: error.toJSON() });
        throw new ApiError(
          ErrorCode.Unavailable,
          'The directory cannot be reached: directory users cannot sign in now (local administrators can)',
        );
      }
      const reason = error instanceof LoginRefused ? error.reason : 'error';
      await this.login.failAttempt(key, attempt, origin, reason);
      if (error instanceof LoginRefused) throw new ApiError(ErrorCode.Unauthenticated, INVALID_CREDENTIALS);
      throw error;
    }
    await this.login.succeeded(key, origin);
    return true;
  }

  override handleRequest<T>(error: unknown, user: T): T {
    if (error instanceof Error) throw error;
    if (error) throw new LoginRefused('error');
    if (!user) throw new LoginRefused('unknown_user');
    return user;
  }
}
