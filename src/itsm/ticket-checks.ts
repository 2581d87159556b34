import { readFileSync } from 'node:fs';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { Clock } from '../common/clock.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import type { TicketVerdict } from '../policies/engine/decision.types.js';
import type { PolicyRule } from '../policies/policy.types.js';
import { ItsmUnavailableError } from './itsm-errors.js';
import { ServiceNowClient, type ServiceNowAuth, type TicketRecord } from './servicenow-client.js';
import { judgeTicket, refusalBeforeAsking, tableOf, type AllowedStates } from './ticket-judgement.js';

/** Tickets whose answers are kept; past this the oldest are forgotten (bounded memory). */
const MAX_CACHED_TICKETS = 10_000;

/**
 * The ITSM's verdicts on a request's ticket for the rules that check it (`ticket.check:
 * servicenow`). ServiceNow's answer on a ticket (found or unknown) is kept SERVICENOW_CACHE_SECONDS
 * and shared by concurrent requests; a failure is never kept, and never throws: it is an
 * `unavailable` verdict, which the rule's onUnavailable turns into deny or ask.
 */
@Injectable()
export class TicketChecks {
  private readonly logger = new Logger('TicketChecks');
  private readonly client: ServiceNowClient | null;
  private readonly allowed: AllowedStates;
  private readonly cache = new Map<string, { at: number; record: Promise<TicketRecord | null> }>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {
    this.client = config.SERVICENOW_URL
      ? new ServiceNowClient(
          {
            url: config.SERVICENOW_URL,
            auth: authOf(config),
            ca: config.SERVICENOW_CA_FILE ? readFileSync(config.SERVICENOW_CA_FILE) : undefined,
            timeoutMs: config.SERVICENOW_TIMEOUT_MS,
          },
          () => this.clock.now().getTime(),
        )
      : null;
    this.allowed = {
      change_request: listOf(config.SERVICENOW_CHANGE_STATES),
      incident: listOf(config.SERVICENOW_INCIDENT_STATES),
    };
  }

  async verdicts(
    rules: PolicyRule[],
    ticket: string | undefined,
    deviceId: string,
    now: Date,
  ): Promise<Map<string, TicketVerdict>> {
    const verdicts = new Map<string, TicketVerdict>();
    if (rules.length === 0) return verdicts;
    const found = await this.lookUp(ticket);
    for (const rule of rules) {
      verdicts.set(
        rule.id,
        'kind' in found ? found : judgeTicket(found.record, rule.ticket!, deviceId, now, this.allowed),
      );
    }
    return verdicts;
  }

  /** The ticket as ServiceNow holds it, or the verdict that holds for every rule. */
  private async lookUp(ticket: string | undefined): Promise<{ record: TicketRecord } | TicketVerdict> {
    const table = ticket ? tableOf(ticket) : null;
    if (!ticket || !table) return refusalBeforeAsking(ticket)!;
    if (!this.client) return { kind: 'unavailable', reason: 'ITSM unavailable: SERVICENOW_URL is not set' };
    try {
      const budget = this.config.SERVICENOW_TIMEOUT_MS;
      const record = await this.cached(ticket, () => withinBudget(this.client!.findTicket(table, ticket), budget));
      return record ? { record } : { kind: 'refused', reason: `ticket ${ticket} is unknown to ServiceNow` };
    } catch (error) {
      if (!(error instanceof ItsmUnavailableError)) throw error;
      this.logger.warn(`Ticket ${ticket}: ${error.message}`);
      return { kind: 'unavailable', reason: `ITSM unavailable: ${error.message}` };
    }
  }

  private cached(ticket: string, load: () => Promise<TicketRecord | null>): Promise<TicketRecord | null> {
    const now = this.clock.now().getTime();
    const kept = this.cache.get(ticket);
    if (kept && now - kept.at < this.config.SERVICENOW_CACHE_SECONDS * 1000) return kept.record;
    const record = load();
    if (this.config.SERVICENOW_CACHE_SECONDS > 0) {
      if (this.cache.size >= MAX_CACHED_TICKETS) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(ticket, { at: now, record });
      // A failure is not an answer: the next request asks again.
      record.catch(() => {
        if (this.cache.get(ticket)?.record === record) this.cache.delete(ticket);
      });
    }
    return record;
  }
}

/** One budget for the whole look-up (an OAuth token, then the ticket): the agent waits no longer. */
function withinBudget<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ItsmUnavailableError(`no answer from ServiceNow within ${ms} ms`)), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

function authOf(config: AppConfig): ServiceNowAuth {
  // The config schema has checked that exactly one of the pairs is set.
  return config.SERVICENOW_CLIENT_ID
    ? { kind: 'oauth', clientId: config.SERVICENOW_CLIENT_ID, clientSecret: config.SERVICENOW_CLIENT_SECRET! }
    : { kind: 'basic', user: config.SERVICENOW_USER!, password: config.SERVICENOW_PASSWORD! };
}

const listOf = (list: string) =>
  list
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
