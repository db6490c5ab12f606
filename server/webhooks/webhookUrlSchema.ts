import { isIP } from 'node:net';
import { z } from 'zod';
import { isLanAddress } from './isLanAddress.js';

/**
 * A webhook endpoint as the admin enters it. An address literal must be loopback, private or
 * link-local now. A host name is accepted on its syntax alone: what it resolves to today says
 * nothing about the moment of delivery, so every delivery resolves it again and refuses a public
 * answer (resolveLanTarget). No credentials in the URL (they would show in lists and logs), no
 * fragment, http or https only.
 */
export const webhookUrlSchema = z
  .string()
  .max(2048)
  .superRefine((value, ctx) => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'not a URL' });
      return;
    }
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (url.protocol !== 'http:' && url.protocol !== 'https:') ctx.addIssue({ code: 'custom', message: 'use http:// or https://' });
    else if (url.username || url.password) ctx.addIssue({ code: 'custom', message: 'no user name or password in the URL' });
    else if (url.hash) ctx.addIssue({ code: 'custom', message: 'no #fragment' });
    else if (isIP(host) !== 0 && !isLanAddress(host)) ctx.addIssue({ code: 'custom', message: `${host} is not a loopback, private (10/8, 172.16/12, 192.168/16, fc00::/7) or link-local address: webhooks stay on the LAN` });
  });
