import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { PassportModule } from '@nestjs/passport';
import { AuditModule } from '../audit/audit.module.js';
import { UsersModule } from '../users/users.module.js';
import { DevicesModule } from '../devices/devices.module.js';
import { AccessGuard } from './access.guard.js';
import { AccountsController } from './accounts.controller.js';
import { AuthController } from './auth.controller.js';
import { LocalAuthGuard } from './local-auth.guard.js';
import { LocalStrategy } from './local.strategy.js';
import { LoginThrottleService } from './login-throttle.service.js';
import { LoginService } from './login.service.js';
import { SessionsService } from './sessions.service.js';
import { SetupService } from './setup.service.js';
import { TokenService } from './token.service.js';

@Module({
  imports: [PassportModule.register({ session: false }), UsersModule, AuditModule, DevicesModule],
  controllers: [AuthController, AccountsController],
  providers: [
    TokenService,
    SessionsService,
    LoginThrottleService,
    LoginService,
    LocalStrategy,
    LocalAuthGuard,
    SetupService,
    { provide: APP_GUARD, useClass: AccessGuard },
  ],
  exports: [LoginThrottleService, SessionsService, TokenService],
})
export class AuthModule {}
