import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { DevicesModule } from '../devices/devices.module.js';
import { PoliciesModule } from '../policies/policies.module.js';
import { AgentDecisionsController } from './agent-decisions.controller.js';
import { DecisionsService } from './decisions.service.js';
import { GrantLookup } from './grants/grant-lookup.js';
import { PolicySimulator } from './policy-simulator.js';
import { SimulationController } from './simulation.controller.js';

@Module({
  imports: [AuditModule, PoliciesModule, DevicesModule],
  controllers: [AgentDecisionsController, SimulationController],
  providers: [DecisionsService, GrantLookup, PolicySimulator],
  exports: [DecisionsService, GrantLookup, PolicySimulator],
})
export class DecisionsModule {}
