import { X509Certificate } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { request, type Agent } from 'node:https';
import type { TLSSocket } from 'node:tls';

export interface HttpsAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** The certificate the server presented on this connection. */
  peer: X509Certificate;
}

/**
 * One HTTPS request to 127.0.0.1 with node:https (fetch cannot trust one certificate or show the
 * peer's). With `ca` the certificate is verified against it (names included); without, it is read
 * unverified, as the first step of pinning by fingerprint.
 */
export function httpsRequest(port: number, path: string, options: { method?: string; key?: string; body?: string | Buffer; contentType?: string; ca?: string; agent?: Agent; servername?: string } = {}): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (options.key) headers.authorization = `Bearer ${options.key}`;
    if (options.contentType) headers['content-type'] = options.contentType;
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: options.method ?? 'GET',
        headers,
        agent: options.agent ?? false,
        ...(options.ca ? { ca: options.ca } : { rejectUnauthorized: false }),
        ...(options.servername ? { servername: options.servername } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        const peer = new X509Certificate((res.socket as TLSSocket).getPeerCertificate().raw);
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), peer }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}
