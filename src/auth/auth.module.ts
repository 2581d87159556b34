import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { PassportModule } from '@nestjs/passport';
import { AccountUnlock } from './account-unlock.js';
import { AuditModule } from '../audit/audit.module.js';
import { BackupModule } from '../backup/backup.module.js';
import { UsersModule } from '../users/users.module.js';
import { DevicesModule } from '../devices/devices.module.js';
import { AccessGuard } from './access.guard.js';
import { AdminSocket } from './admin-socket.js';
import { DeviceRateLimit } from '../throttling/device-rate-limit.js';
import { AccountsController } from './accounts.controller.js';
import { AuthController } from './auth.controller.js';
import { DirectoryModule } from '../directory/directory.module.js';
import { DirectoryStrategy } from './directory.strategy.js';
import { LoginGuard } from './login.guard.js';
import { LocalStrategy } from './local.strategy.js';
import { LoginThrottleService } from './login-throttle.service.js';
import { LoginService } from './login.service.js';
import { SessionsService } from './sessions.service.js';
import { SetupService } from './setup.service.js';
import { TokenService } from './token.service.js';

@Module({
  imports: [
    PassportModule.register({ session: false }),
    UsersModule,
    AuditModule,
    DevicesModule,
    DirectoryModule,
    BackupModule,
  ],
  controllers: [AuthController, AccountsController],
  providers: [
    TokenService,
    SessionsService,
    LoginThrottleService,
    LoginService,
    LocalStrategy,
    DirectoryStrategy,
    LoginGuard,
    SetupService,
    AdminSocket,
    DeviceRateLimit,
    AccountUnlock,
    { provide: APP_GUARD, useClass: AccessGuard },
  ],
  exports: [LoginThrottleService, SessionsService, TokenService, LoginService, LoginGuard, SetupService, AccountUnlock],
})
export class AuthModule {}
