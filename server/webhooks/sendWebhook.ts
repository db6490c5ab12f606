import { request as httpRequest, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';

export interface WebhookRequest {
  url: URL;
  /** The address resolveLanTarget checked: the only one this request may connect to. */
  target: { address: string; family: 4 | 6 };
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  signal: AbortSignal;
}

/** How much of a receiver's answer is kept for the delivery log. */
const RESPONSE_SNIPPET = 200;

/**
 * One POST. Redirects are not followed (a 3xx counts as a failure: following one could leave the
 * LAN). Resolves with the status and the start of the answer; rejects on a network error, the
 * timeout or the abort signal.
 */
export function sendWebhook(request: WebhookRequest): Promise<{ status: number; snippet: string }> {
  const { url, target } = request;
  // Pinned: whatever name the URL holds, the socket goes to the checked address (Node 20's
  // happy-eyeballs connect asks with `all: true`, plain connects without).
  const lookup = ((_host: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (options.all) callback(null, [{ address: target.address, family: target.family }]);
    else callback(null, target.address, target.family);
  }) as unknown as LookupFunction;
  const options: RequestOptions = {
    method: 'POST',
    headers: { ...request.headers, 'content-length': String(Buffer.byteLength(request.body)) },
    lookup,
    timeout: request.timeoutMs,
    signal: request.signal,
  };
  return new Promise((resolve, reject) => {
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, options, (res) => {
      let snippet = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => { if (snippet.length < RESPONSE_SNIPPET) snippet += chunk; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, snippet: snippet.slice(0, RESPONSE_SNIPPET) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${request.timeoutMs} ms`)));
    req.on('error', reject);
    req.end(request.body);
  });
}
