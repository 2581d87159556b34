import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { PoliciesModule } from '../policies/policies.module.js';
import { AgentPolicyController } from './agent-policy.controller.js';
import { OfflineDecisionsService } from './offline-decisions.service.js';
import { OfflinePolicyService } from './offline-policy.service.js';
import { PolicyVersions } from './policy-versions.js';

/** Offline policies for device agents, and the decisions they took with them (agent-api.md 1.1). */
@Module({
  imports: [AuditModule, PoliciesModule],
  controllers: [AgentPolicyController],
  providers: [OfflinePolicyService, OfflineDecisionsService, PolicyVersions],
})
export class AgentPolicyModule {}
