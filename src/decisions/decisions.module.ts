import { Module } from '@nestjs/common';
import { GrantLookupModule } from '../approvals/grants/grant-lookup.module.js';
import { AuditModule } from '../audit/audit.module.js';
import { DevicesModule } from '../devices/devices.module.js';
import { PoliciesModule } from '../policies/policies.module.js';
import { AgentDecisionsController } from './agent-decisions.controller.js';
import { DecisionsService } from './decisions.service.js';
import { PolicySimulator } from './policy-simulator.js';
import { RequestStories } from './request-story.js';
import { SimulationController } from './simulation.controller.js';

@Module({
  imports: [AuditModule, PoliciesModule, DevicesModule, GrantLookupModule],
  controllers: [AgentDecisionsController, SimulationController],
  providers: [DecisionsService, PolicySimulator, RequestStories],
  exports: [DecisionsService, PolicySimulator, RequestStories],
})
export class DecisionsModule {}
