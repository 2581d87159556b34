import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';

/** A ticket as the test writes it; the server answers it as the Table API does with display_value=all. */
export interface FakeTicket {
  number: string;
  state: { value: string; display: string };
  cmdbCi?: string;
  /** UTC, "yyyy-MM-dd HH:mm:ss" (as the Table API gives date-time values). */
  startDate?: string;
  endDate?: string;
}

export type FakeMode = 'normal' | 'slow' | 'error500' | 'reset';

/**
 * A local HTTPS server that answers like ServiceNow's Table API (GET /api/now/table/{table}
 * with sysparm_query=number=…, sysparm_fields, sysparm_limit, sysparm_display_value=all;
 * `{"result": […]}`, paging headers Link and X-Total-Count; `{"error": {...}, "status":
 * "failure"}` with 401 on bad credentials and 400 on an unknown table) and its OAuth token
 * endpoint (POST /oauth_token.do, grant_type=client_credentials). `mode` makes it slow, answer
 * 500, or drop connections; `requests` lists what it was asked.
 */
export class FakeServiceNow {
  readonly tables = new Map<string, FakeTicket[]>([
    ['change_request', []],
    ['incident', []],
  ]);
  readonly requests: { method: string; path: string; authorization?: string }[] = [];
  mode: FakeMode = 'normal';
  private readonly tokens = new Set<string>();
  private readonly sockets = new Set<Socket>();
  private server!: Server;
  url = '';

  constructor(
    private readonly tls: { certFile: string; keyFile: string },
    private readonly credentials: { user: string; password: string; clientId: string; clientSecret: string },
  ) {}

  async start(): Promise<void> {
    this.server = createServer(
      { cert: readFileSync(this.tls.certFile), key: readFileSync(this.tls.keyFile) },
      (req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const url = new URL(req.url ?? '/', 'https://servicenow.test');
          this.requests.push({
            method: req.method ?? '',
            path: url.pathname,
            authorization: req.headers.authorization,
          });
          if (this.mode === 'reset') return req.socket.destroy();
          const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => {
            res.writeHead(status, { 'content-type': 'application/json;charset=UTF-8', ...headers });
            res.end(JSON.stringify(body));
          };
          if (this.mode === 'slow') return void setTimeout(() => answer(200, { result: [] }), 5000).unref();
          if (this.mode === 'error500') return answer(500, failure('Internal server error', 'Something broke'));
          if (req.method === 'POST' && url.pathname === '/oauth_token.do') {
            return this.token(Buffer.concat(chunks).toString('utf8'), answer);
          }
          if (!this.authorized(req.headers.authorization)) {
            return answer(401, failure('User Not Authenticated', 'Required to provide Auth information'));
          }
          const table = url.pathname.match(/^\/api\/now\/table\/([a-z_]+)$/)?.[1];
          const rows = table ? this.tables.get(table) : undefined;
          if (req.method !== 'GET' || !rows)
            return answer(400, failure(`Invalid table ${table ?? url.pathname}`, null));
          const number = url.searchParams.get('sysparm_query')?.match(/^number=([A-Z0-9]+)$/)?.[1];
          const matching = number ? rows.filter((r) => r.number === number) : rows;
          const limit = Number(url.searchParams.get('sysparm_limit') ?? '10000');
          const fields = url.searchParams.get('sysparm_fields')?.split(',');
          const all = url.searchParams.get('sysparm_display_value') === 'all';
          const result = matching.slice(0, limit).map((r) => shape(r, fields, all));
          const next = new URL(url);
          next.searchParams.set('sysparm_offset', String(limit));
          answer(
            200,
            { result },
            {
              'x-total-count': String(matching.length),
              ...(matching.length > limit ? { link: `<${next.href}>;rel="next"` } : {}),
            },
          );
        });
      },
    );
    this.server.on('secureConnection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `https://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Tokens issued so far no longer count (as when ServiceNow revokes them). */
  revokeTokens(): void {
    this.tokens.clear();
  }

  tableRequests(): number {
    return this.requests.filter((r) => r.path.startsWith('/api/now/table/')).length;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private authorized(header: string | undefined): boolean {
    const { user, password } = this.credentials;
    if (header === `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`) return true;
    return header?.startsWith('Bearer ') === true && this.tokens.has(header.slice(7));
  }

  private token(form: string, answer: (status: number, body: unknown) => void): void {
    const p = new URLSearchParams(form);
    const ok =
      p.get('grant_type') === 'client_credentials' &&
      p.get('client_id') === this.credentials.clientId &&
      p.get('client_secret') === this.credentials.clientSecret;
    if (!ok) return answer(401, { error_description: 'access_denied', error: 'server_error' });
    const token = randomBytes(16).toString('hex');
    this.tokens.add(token);
    answer(200, { access_token: token, scope: 'useraccount', token_type: 'Bearer', expires_in: 1799 });
  }
}

const failure = (message: string, detail: string | null) => ({ error: { message, detail }, status: 'failure' });

function shape(t: FakeTicket, fields: string[] | undefined, all: boolean): Record<string, unknown> {
  const field = (value: string, display = value) => (all ? { display_value: display, value } : value);
  const row: Record<string, unknown> = {
    number: field(t.number),
    state: field(t.state.value, t.state.display),
    // A reference: its sys_id as value, the CI's name as display value.
    cmdb_ci: t.cmdbCi ? field(`sys-${t.cmdbCi}`, t.cmdbCi) : field(''),
    start_date: field(t.startDate ?? ''),
    end_date: field(t.endDate ?? ''),
    short_description: field('Planned maintenance'),
  };
  return fields ? Object.fromEntries(fields.filter((f) => f in row).map((f) => [f, row[f]])) : row;
}
