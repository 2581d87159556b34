import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from './wait-for.js';
import { freePort } from './free-port.js';

export interface ScrapeTarget {
  job: string;
  /** host:port */
  target: string;
  tokenFile: string;
  scheme?: 'http' | 'https';
  caFile?: string;
}

export interface PrometheusServer {
  url: string;
  configFile: string;
  /** An instant query; each series' labels and value. */
  query(expr: string): Promise<{ metric: Record<string, string>; value: number }[]>;
  /** Every metric name Prometheus has stored (from its scrapes). */
  metricNames(): Promise<string[]>;
  get<T>(path: string): Promise<T>;
  logs: string[];
  stop(): Promise<void>;
}

/**
 * The machine's Prometheus (Debian package prometheus), with its own configuration and data
 * folder in `dir`, on a free loopback port, scraping `targets` every second.
 */
export async function startPrometheus(
  dir: string,
  targets: ScrapeTarget[],
  ruleFiles: string[],
): Promise<PrometheusServer> {
  const configFile = join(dir, 'prometheus.yml');
  const jobs = targets.map((t) =>
    [
      `  - job_name: ${t.job}`,
      `    scrape_interval: 1s`,
      `    scrape_timeout: 1s`,
      `    metrics_path: /metrics`,
      `    scheme: ${t.scheme ?? 'http'}`,
      `    authorization:`,
      `      type: Bearer`,
      `      credentials_file: ${t.tokenFile}`,
      ...(t.caFile ? [`    tls_config:`, `      ca_file: ${t.caFile}`] : []),
      `    static_configs:`,
      `      - targets: ['${t.target}']`,
    ].join('\n'),
  );
  writeFileSync(
    configFile,
    [
      'global:',
      '  scrape_interval: 1s',
      '  evaluation_interval: 1s',
      'rule_files:',
      ...ruleFiles.map((f) => `  - ${f}`),
      'scrape_configs:',
      ...jobs,
      '',
    ].join('\n'),
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const logs: string[] = [];
  const child: ChildProcess = spawn(
    '/usr/bin/prometheus',
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout!.on('data', (d: Buffer) => logs.push(d.toString()));
  child.stderr!.on('data', (d: Buffer) => logs.push(d.toString()));
  let exited = false;
  child.on('exit', () => (exited = true));

  const get = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${url}${path}`);
    if (!res.ok) throw new Error(`Prometheus ${path}: ${res.status} ${await res.text()}`);
    return ((await res.json()) as { data: T }).data;
  };
  await waitFor(async () => {
    if (exited) throw new Error(`prometheus exited:\n${logs.join('')}`);
    return fetch(`${url}/-/ready`).then(
      (r) => r.ok,
      () => false,
    );
  }, 'Prometheus to be ready');

  return {
    url,
    configFile,
    logs,
    get,
    async query(expr) {
      const data = await get<{ result: { metric: Record<string, string>; value: [number, string] }[] }>(
        `/api/v1/query?query=${encodeURIComponent(expr)}`,
      );
      return data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
    },
    metricNames: () => get<string[]>('/api/v1/label/__name__/values'),
    async stop() {
      if (exited) return;
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await gone;
    },
  };
}
