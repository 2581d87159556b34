/** Where audit records are forwarded (AUDIT_FORWARD_URLS): one syslog or Splunk-HEC-shaped receiver. */
export type Receiver =
  | {
      kind: 'syslog';
      transport: 'tls' | 'tcp' | 'udp';
      host: string;
      port: number;
      format: 'cef' | 'json';
      name: string;
    }
  | { kind: 'hec'; url: string; name: string };

const SYSLOG = /^syslog\+(tls|tcp|udp):$/;

/**
 * One entry of AUDIT_FORWARD_URLS, or the reason it is not one. `name` is the URL without
 * user, password or query secrets: it is what the API shows and the cursor is kept under.
 */
export function parseReceiverUrl(text: string): Receiver | string {
  if (!URL.canParse(text)) return `"${text}" is not a URL`;
  const url = new URL(text);
  if (url.username || url.password) return `"${url.host}": put no credentials in the URL (AUDIT_FORWARD_HEC_TOKEN)`;
  const syslog = SYSLOG.exec(url.protocol);
  if (syslog) {
    const transport = syslog[1] as 'tls' | 'tcp' | 'udp';
    const format = url.searchParams.get('format') ?? 'cef';
    if (format !== 'cef' && format !== 'json') return `"${text}": format must be cef or json`;
    if ([...url.searchParams.keys()].some((k) => k !== 'format')) return `"${text}": the only parameter is format`;
    const port = url.port ? Number(url.port) : transport === 'tls' ? 6514 : 514;
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    if (!host) return `"${text}" has no host`;
    return {
      kind: 'syslog',
      transport,
      host,
      port,
      format,
      name: `syslog+${transport}://${url.host}?format=${format}`,
    };
  }
  if (url.protocol === 'https:') {
    if (!/\/services\/collector(\/event)?\/?$/.test(url.pathname)) {
      return `"${text}": an HTTPS receiver is Splunk-HEC-shaped: its path ends in /services/collector`;
    }
    if (url.search) return `"${text}": no query (the token is AUDIT_FORWARD_HEC_TOKEN)`;
    return { kind: 'hec', url: url.href, name: url.href };
  }
  return `"${text}": expected syslog+tls://, syslog+tcp://, syslog+udp:// or https://…/services/collector`;
}

/** AUDIT_FORWARD_URLS as receivers; throws naming the first bad entry. */
export function parseReceiverUrls(list: string | undefined): Receiver[] {
  const entries = (list ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return entries.map((e) => {
    const r = parseReceiverUrl(e);
    if (typeof r === 'string') throw new Error(r);
    return r;
  });
}
