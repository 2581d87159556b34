import { Module } from '@nestjs/common';
import { AuditController } from './audit.controller.js';
import { AuditTrailSearch } from './audit-trail-search.js';
import { AuditService } from './audit.service.js';

@Module({
  controllers: [AuditController],
  providers: [AuditService, AuditTrailSearch],
  exports: [AuditService, AuditTrailSearch],
})
export class AuditModule {}
