import { httpsCall, type HttpsAnswer } from './https-call.js';
import { ItsmUnavailableError } from './itsm-errors.js';

export type ServiceNowAuth =
  { kind: 'basic'; user: string; password: string } | { kind: 'oauth'; clientId: string; clientSecret: string };

export interface ServiceNowSettings {
  /** https://instance.service-now.com, without a trailing slash. */
  url: string;
  auth: ServiceNowAuth;
  ca?: Buffer;
  timeoutMs: number;
}

/** A field as the Table API gives it with sysparm_display_value=all. */
export interface FieldValue {
  value: string;
  display: string;
}

/** What Gatehouse reads of a change request or an incident. */
export interface TicketRecord {
  table: TicketTable;
  number: string;
  state: FieldValue;
  /** The configuration item (cmdb_ci): its sys_id and its name; null when the ticket names none. */
  ci: FieldValue | null;
  /** Planned start and end (change requests); null when not set. */
  plannedStart: Date | null;
  plannedEnd: Date | null;
}

export type TicketTable = 'change_request' | 'incident';

const FIELDS = 'number,state,cmdb_ci,start_date,end_date';

/** An OAuth token is renewed this long before ServiceNow says it expires. */
const TOKEN_MARGIN_MS = 30_000;

/**
 * ServiceNow's Table API, read-only: a change request or an incident by its number. Basic
 * authentication, or an OAuth token from {url}/oauth_token.do (client credentials), kept until
 * shortly before it expires and fetched anew once when ServiceNow answers 401.
 */
export class ServiceNowClient {
  private token: { value: string; expiresAt: number } | null = null;

  constructor(
    private readonly settings: ServiceNowSettings,
    private readonly now: () => number = Date.now,
  ) {}

  /** The ticket, or null when ServiceNow knows no ticket of that number. */
  async findTicket(table: TicketTable, number: string): Promise<TicketRecord | null> {
    const query = new URLSearchParams({
      sysparm_query: `number=${number}`,
      sysparm_fields: FIELDS,
      sysparm_limit: '1',
      sysparm_display_value: 'all',
      sysparm_exclude_reference_link: 'true',
    });
    const url = `${this.settings.url}/api/now/table/${table}?${query.toString()}`;
    let answer = await this.get(url);
    if (answer.status === 401 && this.settings.auth.kind === 'oauth') {
      this.token = null; // revoked or expired early: one new token, one more try
      answer = await this.get(url);
    }
    if (answer.status === 401) throw new ItsmUnavailableError('ServiceNow refused the credentials (401)');
    if (answer.status !== 200) throw new ItsmUnavailableError(`ServiceNow answered ${answer.status}${errorOf(answer)}`);
    const result = (parseJson(answer.body) as { result?: unknown } | undefined)?.result;
    if (!Array.isArray(result)) throw new ItsmUnavailableError('ServiceNow answered without a result list');
    const rows = result as (Record<string, unknown> | null)[];
    const found = rows.find((r) => fieldOf(r?.number)?.value === number);
    return found ? toRecord(table, found) : null;
  }

  private async get(url: string): Promise<HttpsAnswer> {
    return httpsCall(url, {
      method: 'GET',
      headers: { accept: 'application/json', authorization: await this.authorization() },
      ca: this.settings.ca,
      timeoutMs: this.settings.timeoutMs,
    });
  }

  private async authorization(): Promise<string> {
    const auth = this.settings.auth;
    if (auth.kind === 'basic') {
      return `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString('base64')}`;
    }
    if (this.token && this.token.expiresAt > this.now()) return `Bearer ${this.token.value}`;
    const answer = await httpsCall(`${this.settings.url}/oauth_token.do`, {
      method: 'POST',
      headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: auth.clientId,
        client_secret: auth.clientSecret,
      }).toString(),
      ca: this.settings.ca,
      timeoutMs: this.settings.timeoutMs,
    });
    const token = parseJson(answer.body) as { access_token?: unknown; expires_in?: unknown } | undefined;
    if (answer.status !== 200 || typeof token?.access_token !== 'string') {
      throw new ItsmUnavailableError(`ServiceNow gave no OAuth token (${answer.status}${errorOf(answer)})`);
    }
    const seconds = typeof token.expires_in === 'number' ? token.expires_in : 1800;
    this.token = { value: token.access_token, expiresAt: this.now() + seconds * 1000 - TOKEN_MARGIN_MS };
    return `Bearer ${token.access_token}`;
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** ServiceNow's error text (`{"error":{"message":…}}`), when it sent one. */
function errorOf(answer: HttpsAnswer): string {
  const error = (parseJson(answer.body) as { error?: { message?: unknown } } | undefined)?.error;
  return typeof error?.message === 'string' ? `: ${error.message.slice(0, 200)}` : '';
}

/** A field with display_value=all is {display_value, value}; a plain string is taken as both. */
function fieldOf(raw: unknown): FieldValue | null {
  if (typeof raw === 'string') return raw === '' ? null : { value: raw, display: raw };
  if (raw && typeof raw === 'object') {
    const { value, display_value } = raw as { value?: unknown; display_value?: unknown };
    const v = typeof value === 'string' ? value : '';
    const d = typeof display_value === 'string' ? display_value : v;
    return v === '' && d === '' ? null : { value: v, display: d };
  }
  return null;
}

/** The Table API's date-time values are UTC, "yyyy-MM-dd HH:mm:ss". */
function instantOf(field: FieldValue | null): Date | null {
  const match = field?.value.match(/^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})$/);
  return match ? new Date(`${match[1]}T${match[2]}Z`) : null;
}

function toRecord(table: TicketTable, raw: Record<string, unknown>): TicketRecord {
  return {
    table,
    number: fieldOf(raw.number)!.value,
    state: fieldOf(raw.state) ?? { value: '', display: '' },
    ci: fieldOf(raw.cmdb_ci),
    plannedStart: instantOf(fieldOf(raw.start_date)),
    plannedEnd: instantOf(fieldOf(raw.end_date)),
  };
}
