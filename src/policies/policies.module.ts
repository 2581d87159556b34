import { Module } from '@nestjs/common';
import { AccessRulesService } from './access-rules.service.js';

@Module({ providers: [AccessRulesService], exports: [AccessRulesService] })
export class PoliciesModule {}
