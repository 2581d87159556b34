import { Controller, Get, Param, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AccountUnlock } from '../auth/account-unlock.js';
import { actorOf, originOf, Staff, type StaffPrincipal } from '../auth/principal.js';
import { ApiError, ErrorCode, notFound } from '../common/api-error.js';
import { zodDetails } from '../common/zod-validation.js';
import { People } from '../users/people.js';
import { createUserSchema, setPasswordSchema, usernameSchema } from '../users/users.dto.js';
import { UsersService } from '../users/users.service.js';
import { ConsoleController, ConsolePage } from './console-page.decorator.js';
import { ConsoleRenderer } from './console-renderer.js';
import { PeoplePage } from './pages/people-page.js';

const PAGE_SIZE = 50;

const listQuery = z.strictObject({
  q: z.string().trim().max(200).default(''),
  after: z.string().max(256).optional(),
  done: z.string().max(20).optional(),
});

const optional = (value: string | undefined) => (value === undefined || value.trim() === '' ? undefined : value.trim());

/** The form's fields as the API's body: the same schema, so the same rules. */
const createForm = z
  .strictObject({
    _csrf: z.string().optional(),
    username: z.string(),
    displayName: z.string().optional(),
    email: z.string().optional(),
    password: z.string(),
    groups: z.string().max(2000).optional(),
  })
  .transform((f): z.input<typeof createUserSchema> => ({
    username: f.username.trim(),
    displayName: optional(f.displayName),
    email: optional(f.email),
    password: f.password,
    groups: f.groups
      ?.split(',')
      .map((g) => g.trim())
      .filter(Boolean),
  }))
  .pipe(createUserSchema);

const passwordForm = z
  .strictObject({ _csrf: z.string().optional(), password: z.string() })
  .transform(({ password }) => ({ password }))
  .pipe(setPasswordSchema);

const NOTICES: Record<string, string> = {
  created: 'The user was created.',
  password: 'The password was set; their sessions have ended.',
  unlocked: 'The user name may sign in again.',
};

const parse = <T,>(schema: z.ZodType<T>, value: unknown): T => {
  const parsed = schema.safeParse(value ?? {});
  if (!parsed.success) throw new ApiError(ErrorCode.InvalidRequest, 'Check the form', zodDetails(parsed.error));
  return parsed.data;
};

/** People and their roles (and why), local users: create, reset password, unlock (the API's services). */
@ConsoleController()
@Controller('users')
export class ConsolePeopleController {
  constructor(
    private readonly renderer: ConsoleRenderer,
    private readonly people: People,
    private readonly users: UsersService,
    private readonly accounts: AccountUnlock,
  ) {}

  @Get()
  @ConsolePage('read', 'User')
  async list(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const query = parse(listQuery, request.query);
    const { items, nextCursor } = await this.people.page({ text: query.q, after: query.after, limit: PAGE_SIZE });
    return this.renderer.send(
      reply,
      <PeoplePage
        ctx={this.renderer.context(request)}
        people={items}
        nextCursor={nextCursor}
        text={query.q}
        notice={query.done ? NOTICES[query.done] : undefined}
      />,
    );
  }

  @Post()
  @ConsolePage('manage', 'User')
  async create(@Staff() staff: StaffPrincipal, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const input = parse(createForm, request.body);
    const user = await this.users.createLocalUser(input, actorOf(staff, originOf(request)));
    return this.renderer.redirect(reply, `/users?q=${encodeURIComponent(user.username)}&done=created`);
  }

  @Post(':username/password')
  @ConsolePage('manage', 'User')
  async password(
    @Staff() staff: StaffPrincipal,
    @Param('username') username: string,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    if (!usernameSchema.safeParse(username).success) throw notFound('User');
    const { password } = parse(passwordForm, request.body);
    await this.users.setPassword(username, password, actorOf(staff, originOf(request)));
    return this.renderer.redirect(reply, `/users?q=${encodeURIComponent(username)}&done=password`);
  }

  @Post(':username/unlock')
  @ConsolePage('manage', 'User')
  async unlock(
    @Staff() staff: StaffPrincipal,
    @Param('username') username: string,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    if (username.length > 256) throw notFound('Locked user name');
    await this.accounts.unlock(username, actorOf(staff, originOf(request)));
    return this.renderer.redirect(reply, `/users?q=${encodeURIComponent(username)}&done=unlocked`);
  }
}
