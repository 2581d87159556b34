import { Global, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Database } from './database.js';
import { NotificationBus } from './notification-bus.js';

class DatabaseCloser implements OnApplicationShutdown {
  constructor(private readonly db: Database) {}
  async onApplicationShutdown(): Promise<void> {
    await this.db.close();
  }
}

/** Provides the opened Database and its TypeORM DataSource to every module. */
@Global()
@Module({})
export class DatabaseModule {
  static forDatabase(db: Database): DynamicModule {
    return {
      module: DatabaseModule,
      providers: [
        { provide: Database, useValue: db },
        { provide: DataSource, useValue: db.dataSource },
        { provide: DatabaseCloser, useFactory: () => new DatabaseCloser(db) },
        NotificationBus,
      ],
      exports: [Database, DataSource, NotificationBus],
    };
  }
}
