import { Module } from '@nestjs/common';
import { SigningModule } from '../signing/signing.module.js';
import { AuditCheckpointsService } from './audit-checkpoints.service.js';
import { AuditIntegrityController } from './audit-integrity.controller.js';
import { AuditIntegrityService } from './audit-integrity.service.js';
import { AuditReads } from './audit-reads.js';
import { AuditController } from './audit.controller.js';
import { AuditService } from './audit.service.js';

@Module({
  imports: [SigningModule],
  controllers: [AuditController, AuditIntegrityController],
  providers: [AuditService, AuditCheckpointsService, AuditIntegrityService, AuditReads],
  exports: [AuditService, AuditCheckpointsService, AuditIntegrityService, AuditReads, SigningModule],
})
export class AuditModule {}
