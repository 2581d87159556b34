import {
  InvalidCredentialsError,
  InvalidDNSyntaxError,
  NoSuchObjectError,
  StrongAuthRequiredError,
  InsufficientAccessError,
} from 'ldapts';

export enum DirectoryErrorCode {
  /** No TCP/TLS connection (wrong host or port, DC down, network). */
  Unreachable = 'directory_unreachable',
  /** The certificate is not trusted or does not name the server. */
  Certificate = 'directory_certificate',
  /** The service account's bind was refused. */
  ServiceBind = 'directory_service_bind',
  /** A base DN does not exist or is malformed. */
  BaseDn = 'directory_base_dn',
  /** No answer within the time-out. */
  Timeout = 'directory_timeout',
  /** Anything else the directory answered with. */
  Failed = 'directory_failed',
}

/** A directory problem, naming the setting to look at. */
export class DirectoryError extends Error {
  constructor(
    readonly code: DirectoryErrorCode,
    /** The LDAP_* variable(s) most likely at fault. */
    readonly setting: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${setting}: ${message}`, options);
    this.name = 'DirectoryError';
  }

  toJSON() {
    return { code: this.code, setting: this.setting, message: this.message };
  }
}

const CERT_UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'CERT_SIGNATURE_FAILURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
]);
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNRESET',
  'EPIPE',
]);

/**
 * Turns what ldapts or Node threw into a DirectoryError naming the setting. `stage` says what
 * was being done, because the same LDAP result means different things at different steps.
 */
export function classifyDirectoryError(
  error: unknown,
  stage: 'connect' | 'service-bind' | 'search',
  context: { url: string; timeoutMs: number; baseSetting?: string },
): DirectoryError {
  if (error instanceof DirectoryError) return error;
  const e = error as Error & { code?: unknown };
  const code = typeof e?.code === 'string' ? e.code : undefined;
  const text = e?.message ?? String(error);
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return new DirectoryError(
      DirectoryErrorCode.Certificate,
      'LDAP_TLS_SERVERNAME',
      `the directory's certificate does not name the expected server (${text})`,
      { cause: error },
    );
  }
  if (code && CERT_UNTRUSTED.has(code)) {
    return new DirectoryError(
      DirectoryErrorCode.Certificate,
      'LDAP_CA_FILE',
      `the directory's certificate is not trusted (${code}): give the CA that issued it in LDAP_CA_FILE`,
      { cause: error },
    );
  }
  if (code && UNREACHABLE.has(code)) {
    return new DirectoryError(DirectoryErrorCode.Unreachable, 'LDAP_URL', `cannot reach ${context.url} (${code})`, {
      cause: error,
    });
  }
  if (/connection closed/i.test(text)) {
    return new DirectoryError(
      DirectoryErrorCode.Unreachable,
      'LDAP_URL',
      `the connection to ${context.url} was closed before the directory answered (${text})`,
      { cause: error },
    );
  }
  if (/timeout|timed out/i.test(e?.name ?? '') || /timeout|timed out/i.test(text)) {
    return new DirectoryError(
      DirectoryErrorCode.Timeout,
      // ldapts: "Connection timeout" while connecting (TCP and TLS), "…: Operation timed out" after.
      /connection timeout/i.test(text) ? 'LDAP_CONNECT_TIMEOUT_MS' : 'LDAP_TIMEOUT_MS',
      `no answer from ${context.url} in time (${text})`,
      { cause: error },
    );
  }
  if (error instanceof StrongAuthRequiredError) {
    return new DirectoryError(
      DirectoryErrorCode.Failed,
      'LDAP_URL',
      'the directory requires a protected connection: use ldaps:// (or ldap:// for StartTLS)',
      { cause: error },
    );
  }
  if (stage === 'service-bind' && (error instanceof InvalidCredentialsError || error instanceof InvalidDNSyntaxError)) {
    return new DirectoryError(
      DirectoryErrorCode.ServiceBind,
      'LDAP_BIND_DN/LDAP_BIND_PASSWORD',
      `the directory refused the service account's bind (${text})`,
      { cause: error },
    );
  }
  if (stage === 'search' && (error instanceof NoSuchObjectError || error instanceof InvalidDNSyntaxError)) {
    return new DirectoryError(
      DirectoryErrorCode.BaseDn,
      context.baseSetting ?? 'LDAP_BASE_DN',
      `no such entry in the directory (${text})`,
      { cause: error },
    );
  }
  if (error instanceof InsufficientAccessError) {
    return new DirectoryError(
      DirectoryErrorCode.Failed,
      'LDAP_BIND_DN',
      `the service account may not read this (${text})`,
      { cause: error },
    );
  }
  return new DirectoryError(
    DirectoryErrorCode.Failed,
    stage === 'connect' ? 'LDAP_URL' : 'LDAP_URL',
    `the directory failed: ${code ? `${code} ` : ''}${text}`,
    { cause: error },
  );
}
