import { createHmac } from 'node:crypto';

/**
 * The `Inferbox-Signature` header: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`,
 * Stripe's scheme. The timestamp is signed with the body, so a receiver that rejects old
 * timestamps (five minutes, say) cannot be fed a replayed delivery; each attempt signs anew.
 */
export function signWebhook(secret: string, timestampSeconds: number, body: string): string {
  const signature = createHmac('sha256', secret).update(`${timestampSeconds}.${body}`).digest('hex');
  return `t=${timestampSeconds},v1=${signature}`;
}
