import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { bearerToken } from '../auth/access.guard.js';
import { ConfigError } from '../config/config.schema.js';
import type { ListenAddress } from './listen-address.js';
import type { MetricsScrape } from './metrics-scrape.js';

/** A scrape that does not finish in this time is cut when Gatehouse stops (each state read has 2 s). */
const CLOSE_WAIT_MS = 5000;

/**
 * METRICS_LISTEN: a small HTTP server of its own that answers GET /metrics and nothing else,
 * so that Prometheus can scrape on a management address while the main port faces devices.
 * Plain HTTP, no Nest or Fastify: nothing on it but the scrape. With METRICS_TOKEN it asks
 * for the token too; without, whoever reaches the bound address may read the metrics.
 * Listens when the app starts, closes before the database does when it stops.
 */
export class MetricsListener implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Metrics');
  private server: Server | null = null;

  constructor(
    private readonly address: ListenAddress,
    private readonly scrape: MetricsScrape,
  ) {}

  /** Where it listens (the port chosen by the system when 0). */
  get bound(): AddressInfo | null {
    return (this.server?.address() as AddressInfo | null) ?? null;
  }

  async onApplicationBootstrap(): Promise<void> {
    const server = createServer((request, response) => void this.answer(request, response));
    server.headersTimeout = 10_000;
    server.requestTimeout = 30_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: this.address.host, port: this.address.port }, () => {
        server.off('error', reject);
        resolve();
      });
    }).catch((error: NodeJS.ErrnoException) => {
      throw new ConfigError([`METRICS_LISTEN: ${this.whyNotListening(error)} (got '${this.address.text}')`]);
    });
    server.on('error', (error) => this.logger.error(`Metrics listener: ${error.message}`));
    this.server = server;
    const where = `http://${this.address.text}/metrics`;
    if (this.scrape.tokenSet) this.logger.log(`Metrics also on ${where} (METRICS_LISTEN), with METRICS_TOKEN`);
    else
      this.logger.warn(
        `Metrics on ${where} (METRICS_LISTEN) without a token: whoever can reach ${this.address.text} can read them`,
      );
  }

  async beforeApplicationShutdown(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    // close() waits for scrapes in flight (idle keep-alive connections are closed at once).
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    const cut = setTimeout(() => server.closeAllConnections(), CLOSE_WAIT_MS);
    await closed;
    clearTimeout(cut);
  }

  private async answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = (request.url ?? '').split('?')[0];
    if (request.method !== 'GET' || path !== '/metrics') {
      return this.refuse(response, 404, 'not_found', 'Only GET /metrics is served on this port (METRICS_LISTEN)');
    }
    if (this.scrape.tokenSet && !this.scrape.tokenMatches(bearerToken(request))) {
      response.setHeader('www-authenticate', 'Bearer');
      return this.refuse(response, 401, 'unauthenticated', 'Wrong or missing metrics token (METRICS_TOKEN)');
    }
    try {
      const { contentType, body } = await this.scrape.read();
      response.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' }).end(body);
    } catch (error) {
      this.logger.error(`Metrics scrape failed: ${(error as Error).message}`);
      this.refuse(response, 500, 'internal', 'The metrics could not be read; see the server log');
    }
  }

  private refuse(response: ServerResponse, status: number, code: string, message: string): void {
    response
      .writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' })
      .end(JSON.stringify({ error: { code, message, details: [] } }));
  }

  private whyNotListening(error: NodeJS.ErrnoException): string {
    const { host, port } = this.address;
    const why: Record<string, string> = {
      EADDRINUSE: 'the address is already in use (another process, or PORT): choose another port',
      EADDRNOTAVAIL: `${host} is not an address of this machine: use one of its own addresses`,
      EACCES: `not allowed to listen on port ${port} (ports below 1024 need privileges): choose a port from 1024`,
      ENOTFOUND: `the host name ${host} does not resolve: use an IP address`,
      EAI_AGAIN: `the host name ${host} does not resolve: use an IP address`,
    };
    return why[error.code ?? ''] ?? `cannot listen there: ${error.message}`;
  }
}
