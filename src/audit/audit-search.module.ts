import { Module } from '@nestjs/common';
import { DecisionsModule } from '../decisions/decisions.module.js';
import { PoliciesModule } from '../policies/policies.module.js';
import { AuditModule } from './audit.module.js';
import { AuditExport } from './audit-export.js';
import { AuditSearchController } from './audit-search.controller.js';
import { AuditSearch } from './audit-search.service.js';
import { AuditStory } from './audit-story.js';

/** Reading the trail (search, stories, export); apart from AuditModule, which every feature imports to write. */
@Module({
  imports: [AuditModule, PoliciesModule, DecisionsModule],
  controllers: [AuditSearchController],
  providers: [AuditSearch, AuditStory, AuditExport],
  exports: [AuditSearch, AuditStory],
})
export class AuditSearchModule {}
