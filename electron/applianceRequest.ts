import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import { sameFingerprint } from './certificateTrust.js';

export interface ApplianceResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface ApplianceRequestOptions {
  method?: string;
  headers?: Record<string, string>;
  /** The appliance's certificate fingerprint (SHA-256, colon hex) when the URL is https. */
  fingerprint256?: string | null;
  /**
   * The appliance's certificate (PEM, `tls.crt` in the data dir). Required to send credentials over
   * https: it becomes the only trusted CA and the fingerprint is checked during the handshake, before
   * the request is sent. Without it only public requests are allowed, checked after the answer.
   */
  certificatePem?: string | null;
  timeoutMs?: number;
}

/**
 * One request from the main process to the appliance's own loopback URL (health polls, tray
 * numbers), pinned to its self-signed certificate when it serves HTTPS. Node's http, not fetch:
 * fetch cannot pin a certificate.
 */
export function applianceRequest(url: string, options: ApplianceRequestOptions = {}): Promise<ApplianceResponse> {
  const target = new URL(url);
  const https = target.protocol === 'https:';
  const headers = options.headers ?? {};
  const sendsCredentials = Object.keys(headers).some((h) => h.toLowerCase() === 'authorization');
  if (https && !options.fingerprint256) return Promise.reject(new Error('https without the appliance certificate fingerprint'));
  if (https && sendsCredentials && !options.certificatePem) return Promise.reject(new Error('credentials over https need the appliance certificate (PEM) to pin'));
  const pin = (_host: string, cert: PeerCertificate) =>
    sameFingerprint(cert.fingerprint256, options.fingerprint256 ?? '') ? undefined : new Error('not the appliance certificate');
  return new Promise((resolve, reject) => {
    const common = { method: options.method ?? 'GET', headers, timeout: options.timeoutMs ?? 5000 };
    const req = https
      ? httpsRequest(target, options.certificatePem
        ? { ...common, ca: options.certificatePem, checkServerIdentity: pin }
        : { ...common, rejectUnauthorized: false })
      : httpRequest(target, common);
    req.on('timeout', () => req.destroy(new Error(`no answer from ${target.origin} in ${common.timeout} ms`)));
    req.on('error', reject);
    req.on('response', (response) => {
      if (https && !options.certificatePem) {
        const peer = (response.socket as TLSSocket).getPeerCertificate();
        if (!sameFingerprint(peer.fingerprint256, options.fingerprint256 ?? '')) {
          response.destroy();
          reject(new Error('not the appliance certificate'));
          return;
        }
      }
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.end();
  });
}
