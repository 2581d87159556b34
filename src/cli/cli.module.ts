import { Module, type DynamicModule } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { LoginThrottleService } from '../auth/login-throttle.service.js';
import { Clock, SystemClock } from '../common/clock.js';
import { ConfigModule } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import type { Database } from '../database/database.js';
import { DatabaseModule } from '../database/database.module.js';
import { DirectoryModule } from '../directory/directory.module.js';
import { UsersModule } from '../users/users.module.js';

/** What the CLI needs: the services, without HTTP or first-start work. */
@Module({})
export class CliModule {
  static register(config: AppConfig, database: Database): DynamicModule {
    return {
      module: CliModule,
      imports: [
        ConfigModule.forRoot(config),
        DatabaseModule.forDatabase(database),
        AuditModule,
        UsersModule,
        DirectoryModule,
      ],
      providers: [{ provide: Clock, useValue: new SystemClock() }, LoginThrottleService],
      exports: [Clock],
      global: true,
    };
  }
}
