import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LoginThrottleEntity } from './login-throttle.entity.js';
import { SessionRevocation } from './session-revocation.js';
import { SessionEntity } from './session.entity.js';
import { SignInBlocks } from './sign-in-blocks.js';

/**
 * What other modules may do with auth's tables (sessions, login_throttle): end sessions and
 * read sign-in blocks. Small and importing nothing, so the users and directory modules can
 * import it while AuthModule imports them.
 */
@Module({
  imports: [TypeOrmModule.forFeature([SessionEntity, LoginThrottleEntity])],
  providers: [SessionRevocation, SignInBlocks],
  exports: [SessionRevocation, SignInBlocks],
})
export class AuthRecordsModule {}
