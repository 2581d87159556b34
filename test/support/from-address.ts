import { request } from 'node:http';

export interface AddressedResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any;
}

/**
 * Calls from another loopback source address (127.0.0.2, 127.0.0.3 … all reach 127.0.0.1
 * on Linux): a real different client address, without trusting any proxy header.
 * (undici's `connect.localAddress` is not applied, so this uses node:http.)
 */
export function clientAt(localAddress: string) {
  const call = (method: string, url: string, body?: unknown, headers: Record<string, string> = {}) =>
    new Promise<AddressedResponse>((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = request(
        url,
        {
          method,
          localAddress,
          agent: false, // no keep-alive socket left open after the test
          headers: payload === undefined ? headers : { 'content-type': 'application/json', ...headers },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () =>
            resolve({ status: res.statusCode!, headers: res.headers, body: text ? JSON.parse(text) : undefined }),
          );
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  return {
    post: (url: string, body: unknown, headers?: Record<string, string>) => call('POST', url, body, headers),
    get: (url: string, headers?: Record<string, string>) => call('GET', url, undefined, headers),
  };
}
