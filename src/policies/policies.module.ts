import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { PoliciesController } from './policies.controller.js';
import { PolicyService } from './policy.service.js';
import { PolicyFreshness } from './policy-freshness.js';
import { ConsoleRulesService } from './console-rules.service.js';
import { ConsoleRuleDrafts } from './console-rule-draft.js';
import { PolicyHistory } from './policy-history.js';

@Module({
  imports: [AuditModule],
  controllers: [PoliciesController],
  providers: [PolicyService, ConsoleRulesService, PolicyFreshness, ConsoleRuleDrafts, PolicyHistory],
  exports: [PolicyService, ConsoleRulesService, ConsoleRuleDrafts, PolicyHistory],
})
export class PoliciesModule {}
