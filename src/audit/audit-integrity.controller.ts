import { Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { Public, RequirePermission } from '../auth/permissions.decorator.js';
import { ApiError, ErrorCode } from '../common/api-error.js';
import { ApiQuerySchema, NoBody, ValidQuery } from '../common/zod-validation.js';
import { SigningKeysService } from '../signing/signing-keys.service.js';
import { AuditCheckpointsService } from './audit-checkpoints.service.js';
import { AuditIntegrityService } from './audit-integrity.service.js';
import { ApiErrors, ApiSuccess } from '../openapi/api-responses.js';
import {
  auditVerifySchema,
  auditVerifyStatusSchema,
  publicKeySchema,
  signedCheckpointResponseSchema,
} from './audit.responses.js';

const verifyQuery = z
  .strictObject({
    checkpointSeq: z.coerce.number().int().positive().optional(),
    checkpointHash: z
      .string()
      .regex(/^[0-9a-f]{64}$/, { error: 'expected 64 lower-case hex digits' })
      .optional(),
    full: z.enum(['true', 'false']).optional(),
  })
  .refine((q) => (q.checkpointSeq === undefined) === (q.checkpointHash === undefined), {
    error: 'checkpointSeq and checkpointHash go together',
    path: ['checkpointSeq'],
  });

/** Tamper evidence: verification, signed checkpoints and the key that signs them. */
@ApiTags('audit')
@Controller('api/v1/audit')
export class AuditIntegrityController {
  constructor(
    private readonly integrity: AuditIntegrityService,
    private readonly checkpoints: AuditCheckpointsService,
    private readonly keys: SigningKeysService,
  ) {}

  @Get('verify')
  @RequirePermission('verify', 'AuditRecord')
  @ApiOperation({
    summary:
      'Check the hash chain (from the last verified record; `full=true`: all of it) and that it still reaches ' +
      'the last signed checkpoint (and the one given): names the first record changed, removed or reordered, ' +
      'a removed tail, or a rewritten history. Callers during a run share it.',
  })
  @ApiQuerySchema(verifyQuery)
  @ApiSuccess(auditVerifySchema, { description: 'ok, or the first record or checkpoint that does not check out' })
  verify(@ValidQuery(verifyQuery) q: z.infer<typeof verifyQuery>) {
    const point =
      q.checkpointSeq !== undefined && q.checkpointHash ? { seq: q.checkpointSeq, hash: q.checkpointHash } : undefined;
    return this.integrity.verify({ point, full: q.full === 'true' });
  }

  @Get('verify/status')
  @RequirePermission('verify', 'AuditRecord')
  @ApiOperation({
    summary: 'The verification in progress (records checked so far), the last run, and the last verified record',
  })
  @ApiSuccess(auditVerifyStatusSchema)
  verifyStatus() {
    return this.integrity.status();
  }

  @Get('checkpoints/latest')
  @RequirePermission('read', 'AuditRecord')
  @ApiOperation({
    summary: 'The last signed checkpoint {seq, hash, at, keyId, signature}; save it as a checkpoint file',
  })
  @ApiSuccess(signedCheckpointResponseSchema)
  @ApiErrors([404, 'No checkpoint yet: the audit trail is empty'])
  async latest() {
    const cp = await this.checkpoints.latest();
    if (!cp) throw new ApiError(ErrorCode.NotFound, 'No checkpoint yet: the audit trail is empty');
    return cp;
  }

  @Post('checkpoints')
  @HttpCode(200)
  @RequirePermission('verify', 'AuditRecord')
  @ApiOperation({ summary: "Sign a checkpoint of the chain's head now (the latest one if the head has not moved)" })
  @ApiSuccess(signedCheckpointResponseSchema)
  @ApiErrors([404, 'The audit trail is empty'])
  async create(@NoBody() _body: undefined) {
    const cp = await this.checkpoints.create();
    if (!cp) throw new ApiError(ErrorCode.NotFound, 'No checkpoint: the audit trail is empty');
    return cp;
  }

  @Get('public-key')
  @Public()
  @ApiOperation({ summary: "The appliance's Ed25519 public key (PEM), and the keys it used before a rotation" })
  @ApiSuccess(publicKeySchema)
  async publicKey() {
    const [current, ...previous] = await this.keys.publicKeys();
    return {
      keyId: current.keyId,
      algorithm: current.algorithm,
      publicKey: current.publicKey,
      createdAt: current.createdAt,
      previousKeys: previous,
    };
  }
}
