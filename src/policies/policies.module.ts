import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { PoliciesController } from './policies.controller.js';
import { PolicyService } from './policy.service.js';
import { PolicyFreshness } from './policy-freshness.js';
import { ConsoleRulesService } from './console-rules.service.js';

@Module({
  imports: [AuditModule],
  controllers: [PoliciesController],
  providers: [PolicyService, ConsoleRulesService, PolicyFreshness],
  exports: [PolicyService],
})
export class PoliciesModule {}
