import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { AuthRecordsModule } from '../auth/auth-records.module.js';
import { PoliciesModule } from '../policies/policies.module.js';
import { People } from './people.js';
import { RolesService } from './roles.service.js';
import { UsersController } from './users.controller.js';
import { UsersService } from './users.service.js';

@Module({
  imports: [AuditModule, AuthRecordsModule, PoliciesModule],
  controllers: [UsersController],
  providers: [UsersService, RolesService, People],
  exports: [UsersService, RolesService, People],
})
export class UsersModule {}
