import { Injectable, type ExecutionContext } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import { ApiError, ErrorCode } from '../common/api-error.js';
import { zodDetails } from '../common/zod-validation.js';
import { loginSchema } from './login.dto.js';
import { LoginService } from './login.service.js';

/**
 * Runs Passport's local strategy, after checking the body strictly (guards run before
 * pipes, so the body is validated here). A malformed sign-in is audited as a failure.
 */
@Injectable()
export class LocalAuthGuard extends AuthGuard('local') {
  constructor(private readonly login: LoginService) {
    super();
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const parsed = loginSchema.safeParse(request.body);
    if (!parsed.success) {
      const body = request.body as { username?: unknown } | undefined;
      const name = typeof body?.username === 'string' ? body.username : '(malformed)';
      await this.login.auditFailure(name, request.ip, 'invalid_request');
      throw new ApiError(ErrorCode.InvalidRequest, 'Invalid body', zodDetails(parsed.error));
    }
    return (await super.canActivate(context)) as boolean;
  }

  override handleRequest<T>(error: unknown, user: T): T {
    if (error instanceof Error) throw error;
    if (error) throw new ApiError(ErrorCode.Unauthenticated, 'Invalid user name or password');
    if (!user) throw new ApiError(ErrorCode.Unauthenticated, 'Invalid user name or password');
    return user;
  }
}
