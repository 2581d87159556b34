import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { UserEntity } from '../users/user.entity.js';

/** The user that Passport authenticated on this request (sign-in routes only). */
export const CurrentUser = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): UserEntity =>
    (ctx.switchToHttp().getRequest<FastifyRequest>() as FastifyRequest & { user: UserEntity }).user,
);
