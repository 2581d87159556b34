import { Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { SigningModule } from '../signing/signing.module.js';
import { AuditCheckpointsService } from './audit-checkpoints.service.js';
import { AuditIntegrityController } from './audit-integrity.controller.js';
import { AuditIntegrityService } from './audit-integrity.service.js';
import { AuditPruneService } from './audit-prune.service.js';
import { AuditReads } from './audit-reads.js';
import { AuditController } from './audit.controller.js';
import { AuditService } from './audit.service.js';
import { AuditSealer } from './sealer/audit-sealer.js';

/** One sealer per process (its rounds, and the read barrier of every reader of the trail). */
const AUDIT_SEALER = {
  provide: AuditSealer,
  inject: [DataSource],
  useFactory: (ds: DataSource) => new AuditSealer(ds),
};

@Module({
  imports: [SigningModule],
  controllers: [AuditController, AuditIntegrityController],
  providers: [
    AUDIT_SEALER,
    AuditService,
    AuditCheckpointsService,
    AuditIntegrityService,
    AuditReads,
    AuditPruneService,
  ],
  exports: [
    AuditSealer,
    AuditService,
    AuditCheckpointsService,
    AuditIntegrityService,
    AuditReads,
    AuditPruneService,
    SigningModule,
  ],
})
export class AuditModule {}
