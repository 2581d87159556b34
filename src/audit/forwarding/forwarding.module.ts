import { Module } from '@nestjs/common';
import { AuditModule } from '../audit.module.js';
import { ForwardingController } from './forwarding.controller.js';
import { ForwardingService } from './forwarding.service.js';

/** SIEM forwarding: the server's (the CLI does not forward). */
@Module({
  imports: [AuditModule],
  controllers: [ForwardingController],
  providers: [ForwardingService],
  exports: [ForwardingService],
})
export class ForwardingModule {}
