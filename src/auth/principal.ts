import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { UserEntity } from '../users/user.entity.js';
import type { DeviceEntity } from '../devices/device.entity.js';
import type { Actor, Origin } from '../audit/actor.js';
import type { StaffAbility } from './abilities.js';
import type { RoleBinding } from './roles.js';
import { unauthenticated } from '../common/api-error.js';

/** A signed-in member of staff, as the guard found them. */
export interface StaffPrincipal {
  kind: 'staff';
  user: UserEntity;
  sessionId: string;
  roleBindings: RoleBinding[];
  ability: StaffAbility;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal?: StaffPrincipal;
    device?: DeviceEntity;
  }
}

/** The device whose credential authenticated this agent call. */
export const CurrentDevice = createParamDecorator((_data: unknown, ctx: ExecutionContext): DeviceEntity => {
  const device = ctx.switchToHttp().getRequest<FastifyRequest>().device;
  if (!device) throw unauthenticated('A device credential is required');
  return device;
});

/** The signed-in member of staff; only on routes whose guard metadata requires one. */
export const Staff = createParamDecorator((_data: unknown, ctx: ExecutionContext): StaffPrincipal => {
  const principal = ctx.switchToHttp().getRequest<FastifyRequest>().principal;
  if (!principal) throw unauthenticated();
  return principal;
});

/** The caller's address (the proxy's view when TRUST_PROXY is on). */
export const SourceAddress = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): string => ctx.switchToHttp().getRequest<FastifyRequest>().ip,
);

/** Where the request came from: address and X-Request-Id (see Origin). */
export const originOf = (request: FastifyRequest): Origin => ({ address: request.ip, requestId: request.id });

/** The call's Origin, for what it audits. */
export const RequestOrigin = createParamDecorator((_data: unknown, ctx: ExecutionContext): Origin =>
  originOf(ctx.switchToHttp().getRequest<FastifyRequest>()),
);

/** The signed-in member of staff as the actor of an audited change. */
export const actorOf = (staff: StaffPrincipal, origin: Origin): Actor => ({
  type: 'user',
  id: staff.user.username,
  origin,
});
