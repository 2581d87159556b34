import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { ldapFilterProblem } from '../directory/ldap-filter.js';
import { passwordProblems } from '../users/password-rules.js';
import { isValidTimeZone } from '../policies/zone-offsets.js';
import { parseReceiverUrl } from '../audit/forwarding/receiver-url.js';
import { listenAddressProblem, parseListenAddress } from '../metrics/listen-address.js';
import { deviceGroupListProblem, splitList } from '../metrics/metrics-device-groups.js';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'expected true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const int = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, { error: `expected a whole number from ${min} to ${max}` })
    .transform(Number)
    .pipe(
      z
        .number()
        .int()
        .min(min, { error: `expected at least ${min}` })
        .max(max, { error: `expected at most ${max}` }),
    );

const readableFile = z.string().refine((p) => existsSync(p), { error: 'file not found or not readable' });

/** An LDAP filter that Gatehouse ANDs with its own; parsed at start so a typo names the variable. */
const ldapFilter = z.string().refine((f) => ldapFilterProblem(f) === undefined, {
  error: (issue) => ldapFilterProblem(String(issue.input)) ?? 'invalid LDAP filter',
});
/** AUDIT_FORWARD_URLS: each entry parsed at start, so that a typo stops the start naming the entry. */
const forwardUrlProblem = (list: string): string | undefined =>
  list
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)
    .map(parseReceiverUrl)
    .find((r): r is string => typeof r === 'string');
const forwardUrls = z.string().refine((list) => forwardUrlProblem(list) === undefined, {
  error: (issue) => forwardUrlProblem(String(issue.input)) ?? 'invalid receiver list',
});

const distinguishedName = z.string().regex(/^[A-Za-z][A-Za-z0-9-]*=[^,]+(,\s*[A-Za-z][A-Za-z0-9-]*=[^,]+)*$/, {
  error: 'expected a distinguished name such as OU=Staff,DC=hospital,DC=local',
});

/**
 * Every environment variable Gatehouse reads. `.env.example` documents each one;
 * keep the two in step. No secret has a default.
 */
export const configSchema = z
  .object({
    PORT: int(1, 65535).default(8080),
    HOST: z.string().min(1).default('0.0.0.0'),
    DATABASE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, { error: 'expected a postgres:// or postgresql:// URL' })
      .optional(),
    DATABASE_MIGRATION_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, { error: 'expected a postgres:// or postgresql:// URL' })
      .optional(),
    DATABASE_POOL_SIZE: int(1, 200).default(10),
    // How long a request waits for the database (a free connection, a decision's commit) before 503.
    DATABASE_TIMEOUT_MS: int(100, 60_000).default(3000),
    // The longest any one statement may run on PostgreSQL (also its lock waits); 0: no limit.
    DATABASE_STATEMENT_TIMEOUT_MS: int(0, 3_600_000).default(60_000),
    // How often each replica checks that its console rules are those in the database (0: never).
    POLICY_CHECK_SECONDS: int(0, 3600).default(10),
    GATEHOUSE_DATA_DIR: z.string().min(1).default('./data'),
    // The embedded PGlite's memory (src/database/embedded-memory.ts): resident once touched, never given back.
    EMBEDDED_SHARED_BUFFERS_MB: int(1, 1024).default(16),
    EMBEDDED_WORK_MEM_MB: int(1, 256).default(4),
    EMBEDDED_MAINTENANCE_WORK_MEM_MB: int(1, 512).default(16),
    EMBEDDED_WASM_TIER_UP: bool.default(false),
    POLICIES_DIR: z.string().min(1).default('./policies'),
    TLS_CERT_FILE: readableFile.optional(),
    TLS_KEY_FILE: readableFile.optional(),
    GATEHOUSE_ADMIN_USERNAME: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,64}$/, { error: 'expected 1-64 letters, digits, dots, dashes or underscores' })
      .default('admin'),
    GATEHOUSE_ADMIN_PASSWORD: z.string().min(12, { error: 'expected at least 12 characters' }).optional(),
    GATEHOUSE_TOKEN_SECRET: z.string().min(32, { error: 'expected at least 32 characters' }).optional(),
    SESSION_TTL_MINUTES: int(5, 7 * 24 * 60).default(480),
    SESSION_IDLE_MINUTES: int(1, 24 * 60).default(30),
    // The hospital's zone: the console shows every time in it, with the zone named.
    CONSOLE_TIME_ZONE: z
      .string()
      .refine(isValidTimeZone, { error: 'expected an IANA time zone such as Europe/Berlin' })
      .default(() => Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC'),
    LOGIN_BACKOFF_AFTER: int(1, 100).default(5),
    LOGIN_LOCK_AFTER: int(2, 1000).default(10),
    LOGIN_LOCK_MINUTES: int(1, 24 * 60).default(15),
    // Unset: five times LOGIN_LOCK_AFTER (see the transform below).
    LOGIN_ACCOUNT_LOCK_AFTER: int(2, 100_000).optional(),
    DECISION_VALID_MINUTES: int(1, 24 * 60).default(10),
    // How long a device's signed offline policy may be used (agent-api.md 1.1): one to 30 days.
    OFFLINE_POLICY_HOURS: int(1, 30 * 24).default(24),
    DEVICE_RATE_PER_SECOND: int(1, 10_000).default(20),
    DEVICE_RATE_BURST: int(1, 100_000).default(50),
    ADDRESS_FAILURE_LIMIT: int(1, 1_000_000).default(60),
    ADDRESS_FAILURE_WINDOW_SECONDS: int(1, 24 * 3600).default(60),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    TRUST_PROXY: bool.default(false),
    SHUTDOWN_GRACE_SECONDS: int(1, 600).default(25),
    GATEHOUSE_ALLOW_UNSAFE_DURABILITY: bool.default(false),
    PUBLIC_URL: z
      .url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' })
      .transform((u) => u.replace(/\/+$/, ''))
      .optional(),
    SMTP_URL: z.url({ protocol: /^smtps?$/, error: 'expected an smtp:// or smtps:// URL' }).optional(),
    SMTP_FROM: z.string().min(3).default('Gatehouse <gatehouse@localhost>'),
    SMTP_ALLOW_PLAINTEXT: bool.default(false),
    WEBHOOK_URL: z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' }).optional(),
    WEBHOOK_SECRET: z.string().min(32, { error: 'expected at least 32 characters' }).optional(),
    APPROVAL_REMINDER_MINUTES: int(1, 24 * 60).default(10),
    // Break-glass (src/approvals/break-glass): the groups (local or directory, as for roles)
    // whose members may allow a waiting request alone. Unset or empty: nobody may.
    BREAK_GLASS_GROUPS: z
      .string()
      .regex(/^[^;"<>]*$/, { error: 'expected group names separated by commas, such as ER-On-Call,ICU-Leads' })
      .transform((list) =>
        list
          .split(',')
          .map((g) => g.trim())
          .filter(Boolean),
      )
      .default([]),
    AUDIT_SIGNING_KEY_FILE: readableFile.optional(),
    AUDIT_CHECKPOINT_MINUTES: int(0, 24 * 60).default(5),
    // Retention (audit:prune, src/audit/audit-prune.ts): 2192 days = six years, HIPAA's documentation retention.
    AUDIT_RETENTION_DAYS: int(1, 100 * 366).default(2192),
    // Where audit:prune archives each segment before removing it; unset: audit:prune refuses.
    AUDIT_ARCHIVE_DIR: z.string().min(1).optional(),
    // Records per segment, the unit pruned whole (records 1-N, N+1-2N, ...).
    AUDIT_SEGMENT_RECORDS: int(1, 100_000_000).default(100_000),
    // SIEM forwarding (src/audit/forwarding). Unset AUDIT_FORWARD_URLS: nothing is forwarded.
    AUDIT_FORWARD_URLS: forwardUrls.optional(),
    AUDIT_FORWARD_CA_FILE: readableFile
      .refine((p) => !existsSync(p) || readFileSync(p, 'utf8').includes('-----BEGIN CERTIFICATE-----'), {
        error: "expected a PEM file with the CA certificate(s) that issued the receivers' certificates",
      })
      .optional(),
    AUDIT_FORWARD_HEC_TOKEN: z.string().min(1).optional(),
    // A receiver failing this long gets one audit.forwarding.failing record (and one when it recovers).
    AUDIT_FORWARD_ALERT_MINUTES: int(1, 7 * 24 * 60).default(15),
    // The forwarding threads' nice value (Linux): higher yields more CPU to decisions while they are busy.
    AUDIT_FORWARD_NICE: int(0, 19).default(10),
    // GET /metrics with `Authorization: Bearer <METRICS_TOKEN>` (src/metrics). Unset: /metrics answers 404.
    METRICS_TOKEN: z
      .string()
      .regex(/^[A-Za-z0-9._~+/=-]{16,4096}$/, {
        error: 'expected at least 16 characters: letters, digits and . _ ~ + / = - (it is sent as a bearer token)',
      })
      .optional(),
    // A second listener that answers GET /metrics only (src/metrics/metrics-listener.ts), such as
    // 127.0.0.1:9464 or a management address 10.0.0.5:9464. Unset: metrics on the main port only.
    METRICS_LISTEN: z
      .string()
      .refine((v) => listenAddressProblem(v) === undefined, {
        error: (issue) => listenAddressProblem(String(issue.input)) ?? 'invalid address',
      })
      .transform(parseListenAddress)
      .optional(),
    // Device groups that gatehouse_decisions_by_device_group_total counts apart; the others count as "other".
    METRICS_DEVICE_GROUPS: z
      .string()
      .refine((v) => deviceGroupListProblem(v) === undefined, {
        error: (issue) => deviceGroupListProblem(String(issue.input)) ?? 'invalid group list',
      })
      .transform(splitList)
      .default([]),
    NOTIFY_MAX_ATTEMPTS: int(1, 50).default(8),
    NOTIFY_RETRY_BASE_SECONDS: int(1, 3600).default(30),
    // Active Directory (src/directory). Unset LDAP_URL: no directory, local users only.
    LDAP_URL: z
      .string()
      .regex(/^ldaps?:\/\/[^/?#\s]+\/?$/i, { error: 'expected ldaps://host[:port] or ldap://host[:port] (StartTLS)' })
      .optional(),
    LDAP_BIND_DN: z.string().min(1).optional(),
    LDAP_BIND_PASSWORD: z.string().min(1).optional(),
    LDAP_BASE_DN: distinguishedName.optional(),
    LDAP_USER_BASE_DN: distinguishedName.optional(),
    LDAP_GROUP_BASE_DN: distinguishedName.optional(),
    LDAP_USER_FILTER: ldapFilter.optional(),
    LDAP_GROUP_FILTER: ldapFilter.optional(),
    LDAP_CA_FILE: readableFile
      .refine((p) => !existsSync(p) || readFileSync(p, 'utf8').includes('-----BEGIN CERTIFICATE-----'), {
        error: 'expected a PEM file with the CA certificate(s) that issued the directory certificate',
      })
      .optional(),
    LDAP_TLS_SERVERNAME: z
      .string()
      .regex(/^[A-Za-z0-9.-]{1,253}$/, { error: 'expected a host name' })
      .optional(),
    LDAP_TLS_INSECURE: bool.default(false),
    LDAP_MAX_FAILED_BINDS: int(1, 50).default(3),
    LDAP_CONNECT_TIMEOUT_MS: int(100, 120_000).default(5000),
    LDAP_TIMEOUT_MS: int(100, 600_000).default(30_000),
    LDAP_PAGE_SIZE: int(10, 5000).default(500),
    LDAP_FULL_SYNC_MINUTES: int(0, 7 * 24 * 60).default(360),
    LDAP_INCREMENTAL_SYNC_MINUTES: int(0, 24 * 60).default(5),
    // ServiceNow (src/itsm): confirms the tickets of rules with `ticket.check: servicenow`.
    SERVICENOW_URL: z
      .url({ protocol: /^https$/, error: 'expected an https:// URL such as https://hospital.service-now.com' })
      .transform((u) => u.replace(/\/+$/, ''))
      .optional(),
    SERVICENOW_USER: z.string().min(1).optional(),
    SERVICENOW_PASSWORD: z.string().min(1).optional(),
    SERVICENOW_CLIENT_ID: z.string().min(1).optional(),
    SERVICENOW_CLIENT_SECRET: z.string().min(1).optional(),
    SERVICENOW_CA_FILE: readableFile
      .refine((p) => !existsSync(p) || readFileSync(p, 'utf8').includes('-----BEGIN CERTIFICATE-----'), {
        error: "expected a PEM file with the CA certificate(s) that issued ServiceNow's certificate",
      })
      .optional(),
    // A ticket look-up with no answer within this is "ITSM unavailable" (the rule's onUnavailable).
    SERVICENOW_TIMEOUT_MS: int(100, 30_000).default(2000),
    // How long ServiceNow's answer on a ticket is reused (0: ask every time); failures are never kept.
    SERVICENOW_CACHE_SECONDS: int(0, 3600).default(60),
    // The states (value or label, any case) in which a ticket confirms a rule.
    SERVICENOW_CHANGE_STATES: z.string().min(1).default('scheduled,implement'),
    SERVICENOW_INCIDENT_STATES: z.string().min(1).default('in progress'),
  })
  .superRefine((c, ctx) => {
    if (c.DATABASE_MIGRATION_URL && !c.DATABASE_URL) {
      ctx.addIssue({
        code: 'custom',
        path: ['DATABASE_MIGRATION_URL'],
        message: "needs DATABASE_URL (the server's own role); the embedded database needs neither",
      });
    }
    if (c.DATABASE_MIGRATION_URL && c.DATABASE_URL && !URL.canParse(c.DATABASE_URL)) {
      ctx.addIssue({ code: 'custom', path: ['DATABASE_URL'], message: 'is not a URL' });
    }
    if (Boolean(c.TLS_CERT_FILE) !== Boolean(c.TLS_KEY_FILE)) {
      ctx.addIssue({
        code: 'custom',
        path: [c.TLS_CERT_FILE ? 'TLS_KEY_FILE' : 'TLS_CERT_FILE'],
        message: 'TLS_CERT_FILE and TLS_KEY_FILE must be set together',
      });
    }
    if (c.SMTP_URL && !c.PUBLIC_URL) {
      ctx.addIssue({
        code: 'custom',
        path: ['PUBLIC_URL'],
        message: 'is needed for the links in e-mails (SMTP_URL is set)',
      });
    }
    if (Boolean(c.WEBHOOK_URL) !== Boolean(c.WEBHOOK_SECRET)) {
      ctx.addIssue({
        code: 'custom',
        path: [c.WEBHOOK_URL ? 'WEBHOOK_SECRET' : 'WEBHOOK_URL'],
        message: 'WEBHOOK_URL and WEBHOOK_SECRET (which signs every call) must be set together',
      });
    }
    if (c.AUDIT_FORWARD_URLS && /(^|,)\s*https:/i.test(c.AUDIT_FORWARD_URLS) && !c.AUDIT_FORWARD_HEC_TOKEN) {
      ctx.addIssue({
        code: 'custom',
        path: ['AUDIT_FORWARD_HEC_TOKEN'],
        message: 'required when AUDIT_FORWARD_URLS has an https:// (HTTP Event Collector) receiver',
      });
    }
    if (c.METRICS_LISTEN?.wildcard && !c.METRICS_TOKEN) {
      ctx.addIssue({
        code: 'custom',
        path: ['METRICS_LISTEN'],
        message:
          'listens on every interface without METRICS_TOKEN: bind one address (such as 127.0.0.1:9464 or a management network address) or set METRICS_TOKEN',
      });
    }
    if (c.LDAP_URL) {
      for (const key of ['LDAP_BIND_DN', 'LDAP_BIND_PASSWORD', 'LDAP_BASE_DN'] as const) {
        if (!c[key]) ctx.addIssue({ code: 'custom', path: [key], message: 'required when LDAP_URL is set' });
      }
    }
    serviceNowProblems(c).forEach(([path, message]) => ctx.addIssue({ code: 'custom', path: [path], message }));
    if (c.GATEHOUSE_ADMIN_PASSWORD) {
      // The same rules as the API, checked here so that the start stops naming the rule broken.
      for (const problem of passwordProblems(c.GATEHOUSE_ADMIN_PASSWORD, c.GATEHOUSE_ADMIN_USERNAME)) {
        if (problem.startsWith('at least')) continue; // said by the field's own check
        ctx.addIssue({
          code: 'custom',
          path: ['GATEHOUSE_ADMIN_PASSWORD'],
          message: `too weak: ${problem === 'must not contain the user name' ? 'must not contain GATEHOUSE_ADMIN_USERNAME' : problem}`,
        });
      }
    }
    if (c.LOGIN_LOCK_AFTER <= c.LOGIN_BACKOFF_AFTER) {
      ctx.addIssue({ code: 'custom', path: ['LOGIN_LOCK_AFTER'], message: 'must be greater than LOGIN_BACKOFF_AFTER' });
    }
    if (c.LOGIN_ACCOUNT_LOCK_AFTER !== undefined && c.LOGIN_ACCOUNT_LOCK_AFTER < c.LOGIN_LOCK_AFTER) {
      ctx.addIssue({
        code: 'custom',
        path: ['LOGIN_ACCOUNT_LOCK_AFTER'],
        message: 'must be at least LOGIN_LOCK_AFTER (one address alone must not lock the account for everyone)',
      });
    }
  })
  .transform((c) => ({ ...c, LOGIN_ACCOUNT_LOCK_AFTER: c.LOGIN_ACCOUNT_LOCK_AFTER ?? 5 * c.LOGIN_LOCK_AFTER }));

/** SERVICENOW_URL needs exactly one way to sign in: a user and password, or an OAuth client. */
function serviceNowProblems(c: Partial<Record<string, unknown>>): [string, string][] {
  const problems: [string, string][] = [];
  const pairs = [
    ['SERVICENOW_USER', 'SERVICENOW_PASSWORD'],
    ['SERVICENOW_CLIENT_ID', 'SERVICENOW_CLIENT_SECRET'],
  ] as const;
  for (const [a, b] of pairs) {
    if (Boolean(c[a]) !== Boolean(c[b])) {
      problems.push([c[a] ? b : a, `${a} and ${b} must be set together`]);
    }
    if (c[a] && !c.SERVICENOW_URL) problems.push(['SERVICENOW_URL', `required when ${a} is set`]);
  }
  const basic = Boolean(c.SERVICENOW_USER && c.SERVICENOW_PASSWORD);
  const oauth = Boolean(c.SERVICENOW_CLIENT_ID && c.SERVICENOW_CLIENT_SECRET);
  if (c.SERVICENOW_URL && !basic && !oauth && !c.SERVICENOW_USER && !c.SERVICENOW_CLIENT_ID) {
    problems.push([
      'SERVICENOW_URL',
      'needs SERVICENOW_USER and SERVICENOW_PASSWORD, or SERVICENOW_CLIENT_ID and SERVICENOW_CLIENT_SECRET (OAuth)',
    ]);
  }
  if (basic && oauth) {
    problems.push([
      'SERVICENOW_CLIENT_ID',
      'set either SERVICENOW_USER/PASSWORD or SERVICENOW_CLIENT_ID/SECRET, not both',
    ]);
  }
  return problems;
}

export type AppConfig = z.infer<typeof configSchema> & {
  tls?: { cert: Buffer; key: Buffer };
};

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Validates the environment; throws a ConfigError naming each bad variable and what is expected. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  // Empty strings count as unset so that `VAR=` in a .env file falls back to the default.
  const input = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = configSchema.safeParse(input);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const name = String(issue.path[0] ?? '(environment)');
        // Never echo secrets: passwords, keys, and the credentials inside URLs.
        const shown = input[name]?.replace(/\/\/[^@/]*@/, '//***@');
        const given = name in input && !/PASSWORD|SECRET|TOKEN/.test(name) ? ` (got '${shown}')` : '';
        return `${name}: ${issue.message}${given}`;
      }),
    );
  }
  const config: AppConfig = parsed.data;
  if (config.TLS_CERT_FILE && config.TLS_KEY_FILE) {
    config.tls = { cert: readFileSync(config.TLS_CERT_FILE), key: readFileSync(config.TLS_KEY_FILE) };
  }
  return config;
}
