import { Module } from '@nestjs/common';
import { TicketChecks } from './ticket-checks.js';

/** The hospital's ITSM (ServiceNow): confirms the tickets that rules with `ticket.check` require. */
@Module({
  providers: [TicketChecks],
  exports: [TicketChecks],
})
export class ItsmModule {}
