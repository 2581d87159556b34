import { readFileSync } from 'node:fs';
import { isIP, connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { parseReceiverUrls, type Receiver } from '../../audit/forwarding/receiver-url.js';
import type { AppConfig } from '../../config/config.schema.js';
import { failed, ok, reason, skipped, type CheckResult } from './check.js';

const TIMEOUT_MS = 5000;

/**
 * WEBHOOK_URL: one HEAD request (HTTP's side-effect-free method: nothing is delivered); any
 * HTTP answer proves the receiver and its certificate, since notifications use the same fetch.
 */
export async function checkWebhook(config: AppConfig): Promise<CheckResult> {
  const title = 'Webhook';
  if (!config.WEBHOOK_URL) return skipped(title, 'not configured (WEBHOOK_URL unset)');
  const url = new URL(config.WEBHOOK_URL);
  const where = `WEBHOOK_URL (${url.origin})`;
  try {
    const res = await fetch(url, { method: 'HEAD', redirect: 'manual', signal: AbortSignal.timeout(TIMEOUT_MS) });
    await res.body?.cancel();
    return ok(title, `${where} answered (HTTP ${res.status})`);
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return failed(
      title,
      `${where} cannot be reached: ${cause?.message ?? reason(error)}${cause?.code ? ` (${cause.code})` : ''}`,
      /CERT|SELF_SIGNED|ISSUER/.test(cause?.code ?? '')
        ? "give the receiver a certificate from a CA this machine trusts (NODE_EXTRA_CA_CERTS adds the hospital's CA)"
        : 'check the host and port in WEBHOOK_URL, that the receiver runs, and that the firewall lets this machine reach it',
    );
  }
}

/** AUDIT_FORWARD_URLS: a connection to each receiver (with its TLS handshake against AUDIT_FORWARD_CA_FILE). */
export async function checkSiemReceivers(config: AppConfig): Promise<CheckResult[]> {
  const title = 'SIEM forwarding';
  const receivers = parseReceiverUrls(config.AUDIT_FORWARD_URLS);
  if (receivers.length === 0) return [skipped(title, 'not configured (AUDIT_FORWARD_URLS unset)')];
  const ca = config.AUDIT_FORWARD_CA_FILE ? readFileSync(config.AUDIT_FORWARD_CA_FILE) : undefined;
  return Promise.all(
    receivers.map(async (receiver): Promise<CheckResult> => {
      const where = `receiver ${receiver.name} in AUDIT_FORWARD_URLS`;
      if (receiver.kind === 'syslog' && receiver.transport === 'udp') {
        return skipped(title, `${where}: UDP sends without any answer, so it cannot be checked from here`);
      }
      try {
        await reach(receiver, ca);
        return ok(title, `${where} accepts connections`);
      } catch (error) {
        const code = (error as { code?: string }).code ?? '';
        return failed(
          title,
          `${where} cannot be reached: ${reason(error)}`,
          /CERT|SELF_SIGNED|ISSUER|ALTNAME/.test(code)
            ? "set AUDIT_FORWARD_CA_FILE to the CA that issued the receiver's certificate (which must name the host in the URL)"
            : 'check the host and port in AUDIT_FORWARD_URLS, that the receiver listens, and that the firewall lets this machine reach it',
        );
      }
    }),
  );
}

/** Opens (and closes) a connection as the forwarder would: TLS for syslog+tls and HEC, TCP for syslog+tcp. */
function reach(receiver: Receiver, ca: Buffer | undefined): Promise<void> {
  const target =
    receiver.kind === 'hec'
      ? (() => {
          const u = new URL(receiver.url);
          return { tls: true, host: u.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(u.port || 443) };
        })()
      : { tls: receiver.transport === 'tls', host: receiver.host, port: receiver.port };
  return new Promise<void>((resolve, reject) => {
    const socket: Socket = target.tls
      ? tlsConnect({
          host: target.host,
          port: target.port,
          ca,
          servername: isIP(target.host) ? undefined : target.host,
        })
      : tcpConnect({ host: target.host, port: target.port });
    socket.setTimeout(TIMEOUT_MS, () => socket.destroy(new Error(`no answer within ${TIMEOUT_MS / 1000} s`)));
    socket.once(target.tls ? 'secureConnect' : 'connect', () => {
      socket.end();
      resolve();
    });
    socket.once('error', reject);
  });
}
