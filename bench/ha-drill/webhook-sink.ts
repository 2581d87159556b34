import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Delivery {
  event: string;
  requestId: string;
  delivery: string;
}

/** The hospital's chat bridge: a webhook receiver keeping every notification it got. */
export async function startWebhookSink(): Promise<{ url: string; deliveries: Delivery[]; close(): Promise<void> }> {
  const deliveries: Delivery[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { event: string; requestId: string };
        deliveries.push({
          event: body.event,
          requestId: body.requestId,
          delivery: String(req.headers['x-gatehouse-delivery']),
        });
        res.writeHead(204).end();
      } catch {
        res.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/gatehouse`,
    deliveries,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
