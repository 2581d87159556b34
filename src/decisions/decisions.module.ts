import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { GrantLookupModule } from '../approvals/grants/grant-lookup.module.js';
import { AuditModule } from '../audit/audit.module.js';
import { DevicesModule } from '../devices/devices.module.js';
import { ItsmModule } from '../itsm/itsm.module.js';
import { PoliciesModule } from '../policies/policies.module.js';
import { AgentDecisionsController } from './agent-decisions.controller.js';
import { DecisionRequestEntity } from './decision-request.entity.js';
import { DecisionRequests } from './decision-requests.js';
import { DecisionsService } from './decisions.service.js';
import { LiveSessions } from './live-sessions.js';
import { PolicySimulator } from './policy-simulator.js';
import { SimulationController } from './simulation.controller.js';

@Module({
  imports: [
    AuditModule,
    PoliciesModule,
    DevicesModule,
    GrantLookupModule,
    ItsmModule,
    TypeOrmModule.forFeature([DecisionRequestEntity]),
  ],
  controllers: [AgentDecisionsController, SimulationController],
  providers: [DecisionsService, DecisionRequests, LiveSessions, PolicySimulator],
  exports: [DecisionsService, DecisionRequests, LiveSessions, PolicySimulator],
})
export class DecisionsModule {}
