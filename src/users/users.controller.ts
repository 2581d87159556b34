import { Controller, Delete, Get, HttpCode, Param, Patch, Post, Put } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { RequirePermission } from '../auth/permissions.decorator.js';
import type { Origin } from '../audit/actor.js';
import { actorOf, RequestOrigin, Staff, type StaffPrincipal } from '../auth/principal.js';
import { ApiBodySchema, ValidBody, ZodPipe, NoBody } from '../common/zod-validation.js';
import {
  createGroupSchema,
  createUserSchema,
  groupNameSchema,
  setPasswordSchema,
  updateUserSchema,
  usernameSchema,
  uuidSchema,
} from './users.dto.js';
import { UsersService } from './users.service.js';
import { ApiErrors, ApiNoContent, ApiSuccess } from '../openapi/api-responses.js';
import { groupSchema, groupWithMembersSchema, userViewSchema } from './users.responses.js';

/** Local users and groups (the internal user store). Directory users and groups are synced, not edited here. */
@ApiTags('users')
@Controller('api/v1')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Get('users')
  @RequirePermission('read', 'User')
  @ApiOperation({ summary: 'List users with their groups' })
  @ApiSuccess(z.array(userViewSchema))
  list() {
    return this.users.list();
  }

  @Post('users')
  @RequirePermission('manage', 'User')
  @ApiOperation({ summary: 'Create a local user' })
  @ApiBodySchema(createUserSchema)
  @ApiSuccess(userViewSchema, { status: 201, description: 'The user was created' })
  @ApiErrors([409, 'A user of that name exists'])
  create(
    @ValidBody(createUserSchema) body: z.infer<typeof createUserSchema>,
    @Staff() staff: StaffPrincipal,
    @RequestOrigin() origin: Origin,
  ) {
    return this.users.createLocalUser(body, actorOf(staff, origin));
  }

  @Get('users/:id')
  @RequirePermission('read', 'User')
  @ApiOperation({ summary: 'One user' })
  @ApiSuccess(userViewSchema)
  @ApiErrors(404)
  get(@Param('id', new ZodPipe(uuidSchema, 'user id')) id: string) {
    return this.users.get(id);
  }

  @Patch('users/:id')
  @RequirePermission('manage', 'User')
  @ApiOperation({ summary: 'Disable or enable a user; disabling ends their sessions' })
  @ApiBodySchema(updateUserSchema)
  @ApiSuccess(userViewSchema)
  @ApiErrors(404)
  update(
    @Param('id', new ZodPipe(uuidSchema, 'user id')) id: string,
    @ValidBody(updateUserSchema) body: z.infer<typeof updateUserSchema>,
    @Staff() staff: StaffPrincipal,
    @RequestOrigin() origin: Origin,
  ) {
    return this.users.setDisabled(id, body.disabled, actorOf(staff, origin));
  }

  @Post('users/:username/password')
  @HttpCode(204)
  @RequirePermission('manage', 'User')
  @ApiOperation({ summary: "Set a local user's password; ends their sessions" })
  @ApiBodySchema(setPasswordSchema)
  @ApiNoContent('Password set')
  @ApiErrors(404, [409, 'A directory user: the password is set in the directory'])
  async setPassword(
    @Param('username', new ZodPipe(usernameSchema, 'user name')) username: string,
    @ValidBody(setPasswordSchema) body: z.infer<typeof setPasswordSchema>,
    @Staff() staff: StaffPrincipal,
    @RequestOrigin() origin: Origin,
  ): Promise<void> {
    await this.users.setPassword(username, body.password, actorOf(staff, origin));
  }

  @Get('groups')
  @RequirePermission('read', 'Group')
  @ApiOperation({ summary: 'List groups with their members' })
  @ApiSuccess(z.array(groupWithMembersSchema))
  listGroups() {
    return this.users.listGroups();
  }

  @Post('groups')
  @RequirePermission('manage', 'Group')
  @ApiOperation({ summary: 'Create a local group' })
  @ApiBodySchema(createGroupSchema)
  @ApiSuccess(groupSchema, { status: 201, description: 'The group was created' })
  @ApiErrors([409, 'A group of that name exists'])
  async createGroup(
    @ValidBody(createGroupSchema) body: z.infer<typeof createGroupSchema>,
    @Staff() staff: StaffPrincipal,
    @RequestOrigin() origin: Origin,
  ) {
    const group = await this.users.createGroup(body.name, body.description, actorOf(staff, origin));
    return { name: group.name, source: group.source, description: group.description };
  }

  @Put('groups/:group/members/:username')
  @HttpCode(204)
  @RequirePermission('manage', 'Group')
  @ApiOperation({ summary: 'Add a user to a local group (audited with the roles gained)' })
  @ApiNoContent('Member added')
  @ApiErrors(404, [409, 'A directory group: members are managed in the directory'])
  async addMember(
    @NoBody() _body: undefined,
    @Param('group', new ZodPipe(groupNameSchema, 'group name')) group: string,
    @Param('username', new ZodPipe(usernameSchema, 'user name')) username: string,
    @Staff() staff: StaffPrincipal,
    @RequestOrigin() origin: Origin,
  ): Promise<void> {
    await this.users.addMember(group, username, actorOf(staff, origin));
  }

  @Delete('groups/:group/members/:username')
  @HttpCode(204)
  @RequirePermission('manage', 'Group')
  @ApiOperation({ summary: 'Remove a user from a local group (audited with the roles lost)' })
  @ApiNoContent('Member removed')
  @ApiErrors(404, [409, 'A directory group: members are managed in the directory'])
  async removeMember(
    @NoBody() _body: undefined,
    @Param('group', new ZodPipe(groupNameSchema, 'group name')) group: string,
    @Param('username', new ZodPipe(usernameSchema, 'user name')) username: string,
    @Staff() staff: StaffPrincipal,
    @RequestOrigin() origin: Origin,
  ): Promise<void> {
    await this.users.removeMember(group, username, actorOf(staff, origin));
  }
}
