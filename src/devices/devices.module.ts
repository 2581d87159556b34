import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { PoliciesModule } from '../policies/policies.module.js';
import { AgentDevicesController } from './agent-devices.controller.js';
import { DeviceSearch } from './device-search.js';
import { DevicesController } from './devices.controller.js';
import { DevicesService } from './devices.service.js';
import { EnrollmentTokensService } from './enrollment-tokens.service.js';

@Module({
  imports: [AuditModule, PoliciesModule],
  controllers: [DevicesController, AgentDevicesController],
  providers: [DevicesService, EnrollmentTokensService, DeviceSearch],
  exports: [DevicesService, EnrollmentTokensService, DeviceSearch],
})
export class DevicesModule {}
