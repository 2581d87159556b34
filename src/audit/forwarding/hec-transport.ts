import type { ClientRequest } from 'node:http';
import { request } from 'node:https';
import { hostname } from 'node:os';
import { fromWire, itemJson, timeOf, type WireItem } from './forward-item.js';
import { WRITE_TIMEOUT_MS, type ForwardTransport } from './forward-transport.js';

const HOST = hostname();

/**
 * JSON events over HTTPS in the form Splunk's HTTP Event Collector takes: events one after
 * another in one POST, `Authorization: Splunk <AUDIT_FORWARD_HEC_TOKEN>`. A 2xx answer confirms
 * the batch; anything else is a failure and the batch is sent again.
 */
export class HecTransport implements ForwardTransport {
  readonly epoch = 0;
  readonly settleMs = 0;
  private readonly inFlight = new Set<ClientRequest>();

  constructor(
    private readonly url: string,
    private readonly token: string,
    private readonly ca: Buffer | undefined,
  ) {}

  send(items: WireItem[]): Promise<void> {
    const body = items
      .map(fromWire)
      .map((i) =>
        JSON.stringify({
          time: timeOf(i).getTime() / 1000,
          host: HOST,
          source: 'gatehouse',
          sourcetype: 'gatehouse:audit',
          event: itemJson(i),
        }),
      )
      .join('\n');
    return new Promise<void>((resolve, reject) => {
      const req = request(
        this.url,
        {
          method: 'POST',
          ca: this.ca,
          timeout: WRITE_TIMEOUT_MS,
          headers: {
            authorization: `Splunk ${this.token}`,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) return resolve();
            const text = Buffer.concat(chunks).toString('utf8').slice(0, 200);
            reject(new Error(`the collector answered ${status}: ${text}`));
          });
        },
      );
      this.inFlight.add(req);
      req.on('close', () => this.inFlight.delete(req));
      req.on('timeout', () => req.destroy(new Error(`no answer from the collector within ${WRITE_TIMEOUT_MS} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  close(): void {
    for (const req of this.inFlight) req.destroy(new Error('forwarding stopped'));
  }
}
