import { Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { RequirePermission } from '../auth/permissions.decorator.js';
import type { Origin } from '../audit/actor.js';
import { actorOf, RequestOrigin, Staff, type StaffPrincipal } from '../auth/principal.js';
import { ApiBodySchema, ValidBody } from '../common/zod-validation.js';
import { DirectorySyncService } from './directory-sync.service.js';
import { ApiErrors, ApiSuccess } from '../openapi/api-responses.js';
import { directoryStatusSchema, syncStartedSchema } from './directory.responses.js';

const syncSchema = z
  .strictObject({
    kind: z.enum(['full', 'incremental']).default('incremental'),
  })
  .optional();

@ApiTags('directory')
@Controller('api/v1/directory')
export class DirectoryController {
  constructor(private readonly sync: DirectorySyncService) {}

  @Get('status')
  @RequirePermission('read', 'Directory')
  @ApiOperation({
    summary: 'The directory connection, the sync in progress (phase, users and groups read) and the last result',
  })
  @ApiSuccess(directoryStatusSchema)
  status() {
    return this.sync.status();
  }

  @Post('sync')
  @HttpCode(202)
  @RequirePermission('manage', 'Directory')
  @ApiOperation({
    summary: 'Start a directory sync now (incremental by default; `full` re-reads everything); 409 while one runs',
  })
  @ApiBodySchema(syncSchema.unwrap())
  @ApiSuccess(syncStartedSchema, {
    status: 202,
    description: 'The sync started; follow it with GET /api/v1/directory/status',
  })
  @ApiErrors([409, 'No directory is configured, or a sync is already running'])
  async start(
    @ValidBody(syncSchema) body: z.infer<typeof syncSchema>,
    @Staff() staff: StaffPrincipal,
    @RequestOrigin() origin: Origin,
  ) {
    const kind = body?.kind ?? 'incremental';
    await this.sync.start(kind, actorOf(staff, origin));
    return { started: true, kind };
  }
}
