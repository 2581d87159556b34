import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { AuthRecordsModule } from '../auth/auth-records.module.js';
import { UsersModule } from '../users/users.module.js';
import { DirectoryAuthService } from './directory-auth.service.js';
import { DirectorySyncService } from './directory-sync.service.js';
import { DirectoryController } from './directory.controller.js';

/** Active Directory: the synced copy of people and groups, its status, and directory sign-in. */
@Module({
  imports: [AuditModule, AuthRecordsModule, UsersModule],
  controllers: [DirectoryController],
  providers: [DirectorySyncService, DirectoryAuthService],
  exports: [DirectorySyncService, DirectoryAuthService],
})
export class DirectoryModule {}
