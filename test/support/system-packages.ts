import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** rsyslog's TLS stream driver (package rsyslog-openssl), in the machine's multiarch folder. */
export function rsyslogOsslModule(): string {
  const triplet = process.arch === 'arm64' ? 'aarch64-linux-gnu' : 'x86_64-linux-gnu';
  return `/usr/lib/${triplet}/rsyslog/lmnsd_ossl.so`;
}

/**
 * The Debian packages the tests drive as real parts. `npm test` installs the missing ones
 * itself when it runs as root on a machine with apt-get (as CI and these machines do);
 * anywhere else it stops at once, naming the one command that gets them. Never a skip.
 */
const REQUIRED: { what: string; paths: string[]; pkgs: string[] }[] = [
  {
    what: 'Samba AD DC (directory tests)',
    paths: ['/usr/bin/samba-tool', '/usr/sbin/samba'],
    pkgs: ['samba-ad-dc', 'samba'],
  },
  { what: 'openssl (test certificates)', paths: ['/usr/bin/openssl'], pkgs: ['openssl'] },
  { what: 'Chromium (console tests)', paths: ['/usr/bin/chromium'], pkgs: ['chromium'] },
  {
    what: 'rsyslog with its OpenSSL driver (SIEM forwarding tests)',
    paths: ['/usr/sbin/rsyslogd', rsyslogOsslModule()],
    pkgs: ['rsyslog', 'rsyslog-openssl'],
  },
  { what: 'pdftotext (report tests read the PDFs back)', paths: ['/usr/bin/pdftotext'], pkgs: ['poppler-utils'] },
  {
    what: 'Prometheus and promtool (metrics tests scrape GET /metrics, check the alert rules)',
    paths: ['/usr/bin/prometheus', '/usr/bin/promtool'],
    pkgs: ['prometheus'],
  },
];

export function missingPackages(): string[] {
  const missing = REQUIRED.filter((r) => !r.paths.every((p) => existsSync(p))).flatMap((r) => r.pkgs);
  return [...new Set(missing)];
}

export function ensureSystemPackages(): void {
  const missing = missingPackages();
  if (missing.length === 0) return;
  const command = `apt-get install -y ${missing.join(' ')}`;
  const isRoot = process.getuid?.() === 0;
  const hasApt = spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status === 0;
  if (!isRoot || !hasApt) {
    throw new Error(`The tests need Debian packages that are not installed: ${missing.join(', ')}. Run: ${command}`);
  }
  process.stderr.write(`\n[gatehouse tests] installing ${missing.join(', ')} (${command}) ...\n`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    execFileSync('apt-get', ['update', '-qq'], { stdio: ['ignore', 'ignore', 'inherit'], env });
    execFileSync('apt-get', ['install', '-y', '-qq', ...missing], { stdio: ['ignore', 'ignore', 'inherit'], env });
  } catch (error) {
    throw new Error(`Installing ${missing.join(', ')} failed (${(error as Error).message}). Run: ${command}`, {
      cause: error,
    });
  }
  const still = missingPackages();
  if (still.length > 0) throw new Error(`Still missing after apt-get: ${still.join(', ')}. Run: ${command}`);
}
