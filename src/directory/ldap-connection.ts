import { Client, ResultCodeError } from 'ldapts';
import type { DirectorySettings } from './directory-settings.js';
import { classifyDirectoryError } from './directory.errors.js';

/**
 * Opens a protected connection to the directory: LDAPS, or ldap:// upgraded with StartTLS
 * before anything else is sent (INVARIANT: no bind ever travels in clear text). Certificate
 * checks follow the settings (LDAP_CA_FILE, LDAP_TLS_SERVERNAME).
 */
export async function openConnection(
  settings: DirectorySettings,
  options: { timeoutMs?: number } = {},
): Promise<Client> {
  const client = new Client({
    url: settings.url,
    // For ldap:// the options go to startTLS only: given here too, ldapts 8.2 breaks the connection.
    ...(settings.startTls ? {} : { tlsOptions: { ...settings.tls } }),
    connectTimeout: settings.connectTimeoutMs,
    timeout: options.timeoutMs ?? settings.timeoutMs,
  });
  if (settings.startTls) {
    try {
      // A copy: startTLS() writes the socket into the options it is given.
      await client.startTLS({ ...settings.tls });
    } catch (error) {
      await closeQuietly(client);
      throw classifyDirectoryError(error, 'connect', settings);
    }
  }
  return client;
}

/** A connection bound as the service account (LDAP_BIND_DN). */
export async function openServiceConnection(settings: DirectorySettings): Promise<Client> {
  const client = await openConnection(settings);
  try {
    await client.bind(settings.bindDn, settings.bindPassword);
    return client;
  } catch (error) {
    await closeQuietly(client);
    // An LDAP result means the connection worked and the bind itself was refused.
    throw classifyDirectoryError(error, error instanceof ResultCodeError ? 'service-bind' : 'connect', settings);
  }
}

export async function closeQuietly(client: Client): Promise<void> {
  await client.unbind().catch(() => undefined);
}
