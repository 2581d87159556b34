import { Injectable, Logger, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { forbidden, unauthenticated } from '../common/api-error.js';
import { UsersService } from '../users/users.service.js';
import { DevicesService } from '../devices/devices.service.js';
import { DeviceRateLimit } from '../throttling/device-rate-limit.js';
import { buildStaffAbility } from './abilities.js';
import { ACCESS_METADATA, type RouteAccess } from './permissions.decorator.js';
import { SessionsService } from './sessions.service.js';
import { TokenService } from './token.service.js';
import { consoleSessionToken } from '../console/session-cookie.js';

/** Reads `Authorization: Bearer <token>`; anything else is no token at all. */
export function bearerToken(request: Pick<FastifyRequest, 'headers'>): string | null {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return null;
  const match = /^Bearer ([A-Za-z0-9._~+/=-]{1,4096})$/.exec(header);
  return match ? match[1] : null;
}

/**
 * The global guard. INVARIANT: a route without access metadata is refused — new routes
 * are closed until someone says who may call them.
 */
@Injectable()
export class AccessGuard implements CanActivate {
  private readonly logger = new Logger('AccessGuard');

  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: TokenService,
    private readonly sessions: SessionsService,
    private readonly users: UsersService,
    private readonly devices: DevicesService,
    private readonly deviceLimit: DeviceRateLimit,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const access = this.reflector.getAllAndOverride<RouteAccess | undefined>(ACCESS_METADATA, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (!access) {
      this.logger.error(`Route ${context.getClass().name}.${context.getHandler().name} declares no access: refused`);
      throw forbidden();
    }
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    switch (access.kind) {
      case 'public':
        return true;
      case 'device': {
        const credential = bearerToken(request);
        const device = credential ? await this.devices.authenticate(credential) : null;
        if (!device) throw unauthenticated('Unknown or revoked device credential');
        request.device = device;
        await this.deviceLimit.check(request);
        return true;
      }
      case 'enrollment':
        // The enrollment itself checks (and uses up) the token, atomically.
        if (!bearerToken(request)) throw unauthenticated('An enrollment token is required');
        await this.deviceLimit.check(request);
        return true;
      case 'metrics':
        // The metrics controller compares it with METRICS_TOKEN (and answers 404 while that is unset).
        if (!bearerToken(request)) throw unauthenticated('The metrics token is required');
        return true;
      case 'signed-in':
      case 'permission': {
        await this.authenticateStaff(request, bearerToken(request));
        const ability = request.principal!.ability;
        if (access.kind === 'permission' && !ability.can(access.action, access.subject)) throw forbidden();
        return true;
      }
      case 'console': {
        // The same token, session and abilities as the API, carried in the console's cookie
        // (never accepted by API routes, so the API needs no CSRF defence).
        await this.authenticateStaff(request, consoleSessionToken(request));
        const ability = request.principal!.ability;
        if (access.action && access.subject && !ability.can(access.action, access.subject)) throw forbidden();
        return true;
      }
    }
  }

  private async authenticateStaff(request: FastifyRequest, token: string | null): Promise<void> {
    if (!token) throw unauthenticated();
    const claims = await this.tokens.verify(token);
    if (!claims) throw unauthenticated('The bearer token is invalid or expired: sign in again');
    const session = await this.sessions.resume(claims.sid, claims.sub);
    if (!session) throw unauthenticated('The session has ended (signed out, idle too long, or expired): sign in again');
    const roleBindings = await this.users.roleBindingsOf(session.user.id);
    request.principal = {
      kind: 'staff',
      user: session.user,
      sessionId: session.sessionId,
      roleBindings,
      ability: buildStaffAbility(roleBindings),
    };
  }
}
