import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { GrantLookup } from './grant-lookup.js';
import { GrantEntity } from './grant.entity.js';

/**
 * Reading grants, for the decision path: approvals owns the grants table, and decisions asks
 * through this small module (it imports nothing, so DecisionsModule can import it while
 * ApprovalsModule imports DecisionsModule, without a cycle).
 */
@Module({
  imports: [TypeOrmModule.forFeature([GrantEntity])],
  providers: [GrantLookup],
  exports: [GrantLookup],
})
export class GrantLookupModule {}
