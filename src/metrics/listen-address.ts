import { isIPv4, isIPv6 } from 'node:net';

/** Where the separate metrics listener binds (METRICS_LISTEN). */
export interface ListenAddress {
  host: string;
  port: number;
  /** 0.0.0.0 or `::`: every interface, so the address protects nothing. */
  wildcard: boolean;
  /** As written back in logs and errors: `127.0.0.1:9464`, `[::1]:9464`. */
  text: string;
}

const HOST_NAME =
  /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const EXAMPLE = 'expected host:port such as 127.0.0.1:9464, 10.0.0.5:9464 or [::1]:9464';

function split(value: string): { host: string; port: string } | undefined {
  const bracketed = /^\[([^\]]+)\]:(\d+)$/.exec(value);
  if (bracketed) return isIPv6(bracketed[1]) ? { host: bracketed[1], port: bracketed[2] } : undefined;
  const plain = /^([^:[\]]+):(\d+)$/.exec(value);
  if (!plain || !(isIPv4(plain[1]) || HOST_NAME.test(plain[1]))) return undefined;
  return { host: plain[1], port: plain[2] };
}

/** Why METRICS_LISTEN is not a usable address, or undefined. A port alone is refused: say which interface. */
export function listenAddressProblem(value: string): string | undefined {
  const parts = split(value.trim());
  if (!parts) return EXAMPLE;
  const port = Number(parts.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return `port ${parts.port}: expected 1 to 65535`;
  return undefined;
}

export function parseListenAddress(value: string): ListenAddress {
  const { host, port } = split(value.trim())!;
  return {
    host,
    port: Number(port),
    wildcard: host === '0.0.0.0' || /^[0:]+$/.test(host),
    text: isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`,
  };
}
