import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import type { AppConfig } from '../config/config.schema.js';

/** The directory connection, as the LDAP_* variables describe it. */
export interface DirectorySettings {
  url: string;
  startTls: boolean;
  bindDn: string;
  bindPassword: string;
  baseDn: string;
  userBaseDn: string;
  groupBaseDn: string;
  /** The variable that set each base DN, for error messages. */
  userBaseSetting: string;
  groupBaseSetting: string;
  userFilter: string;
  groupFilter: string;
  tls: ConnectionOptions;
  /** Certificate checks switched off (LDAP_TLS_INSECURE): labs only, logged at every start. */
  insecure: boolean;
  connectTimeoutMs: number;
  timeoutMs: number;
  pageSize: number;
  fullSyncMinutes: number;
  incrementalSyncMinutes: number;
}

/** The settings, or null when no directory is configured (LDAP_URL unset). */
export function directorySettings(config: AppConfig): DirectorySettings | null {
  if (!config.LDAP_URL || !config.LDAP_BIND_DN || !config.LDAP_BIND_PASSWORD || !config.LDAP_BASE_DN) return null;
  const url = config.LDAP_URL.replace(/\/$/, '');
  const insecure = config.LDAP_TLS_INSECURE;
  const host = new URL(url).hostname;
  // The name checked against the certificate: LDAP_TLS_SERVERNAME, else the URL's host (an IP
  // address is checked by Node against the certificate's IP entries; it may not be sent as SNI).
  const servername = config.LDAP_TLS_SERVERNAME ?? (isIP(host) ? undefined : host);
  const tls: ConnectionOptions = {
    minVersion: 'TLSv1.2',
    rejectUnauthorized: !insecure,
    ...(servername ? { servername } : {}),
    ...(config.LDAP_CA_FILE ? { ca: [readFileSync(config.LDAP_CA_FILE, 'utf8')] } : {}),
  };
  return {
    url,
    startTls: url.toLowerCase().startsWith('ldap://'),
    bindDn: config.LDAP_BIND_DN,
    bindPassword: config.LDAP_BIND_PASSWORD,
    baseDn: config.LDAP_BASE_DN,
    userBaseDn: config.LDAP_USER_BASE_DN ?? config.LDAP_BASE_DN,
    groupBaseDn: config.LDAP_GROUP_BASE_DN ?? config.LDAP_BASE_DN,
    userBaseSetting: config.LDAP_USER_BASE_DN ? 'LDAP_USER_BASE_DN' : 'LDAP_BASE_DN',
    groupBaseSetting: config.LDAP_GROUP_BASE_DN ? 'LDAP_GROUP_BASE_DN' : 'LDAP_BASE_DN',
    userFilter: config.LDAP_USER_FILTER ?? '',
    groupFilter: config.LDAP_GROUP_FILTER ?? '',
    tls,
    insecure,
    connectTimeoutMs: config.LDAP_CONNECT_TIMEOUT_MS,
    timeoutMs: config.LDAP_TIMEOUT_MS,
    pageSize: config.LDAP_PAGE_SIZE,
    fullSyncMinutes: config.LDAP_FULL_SYNC_MINUTES,
    incrementalSyncMinutes: config.LDAP_INCREMENTAL_SYNC_MINUTES,
  };
}

/** What status pages may show of the settings: never the password. */
export function describeSettings(s: DirectorySettings) {
  return {
    url: s.url,
    startTls: s.startTls,
    bindDn: s.bindDn,
    baseDn: s.baseDn,
    userBaseDn: s.userBaseDn,
    groupBaseDn: s.groupBaseDn,
    userFilter: s.userFilter || null,
    groupFilter: s.groupFilter || null,
    tlsServerName: s.tls.servername ?? new URL(s.url).hostname,
    certificateChecks: !s.insecure,
    fullSyncMinutes: s.fullSyncMinutes,
    incrementalSyncMinutes: s.incrementalSyncMinutes,
  };
}
