import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isLanAddress } from '../../../server/webhooks/isLanAddress.js';
import { PublicAddressRefused, resolveLanTarget } from '../../../server/webhooks/resolveLanTarget.js';
import { signWebhook } from '../../../server/webhooks/signWebhook.js';

test('isLanAddress: loopback, RFC 1918, link-local and unique-local only', () => {
  const lan = ['127.0.0.1', '127.9.9.9', '10.0.0.1', '172.16.0.1', '172.31.255.255', '192.168.0.10', '169.254.10.10', '::1', '[::1]', 'fd12:3456::1', 'fe80::1%eth0', '::ffff:192.168.1.2', '::ffff:c0a8:102'];
  const outside = ['8.8.8.8', '172.32.0.1', '172.15.255.255', '100.64.0.1', '0.0.0.0', '255.255.255.255', '224.0.0.1', '192.0.2.1', '2001:4860:4860::8888', '::', '::ffff:8.8.8.8', '::ffff:808:808', 'localhost', 'example.lan', ''];
  for (const address of lan) assert.equal(isLanAddress(address), true, address);
  for (const address of outside) assert.equal(isLanAddress(address), false, address);
});

test('resolveLanTarget: every answer must be on the LAN; the first is the one to connect to', async () => {
  const answers = (list: { address: string; family: number }[]) => async () => list;
  assert.deepEqual(await resolveLanTarget('printer.lan', answers([{ address: '192.168.1.7', family: 4 }, { address: 'fd00::7', family: 6 }])), { address: '192.168.1.7', family: 4 });
  await assert.rejects(resolveLanTarget('evil.example', answers([{ address: '93.184.216.34', family: 4 }])), (error: unknown) => error instanceof PublicAddressRefused && /93\.184\.216\.34, which is not on the LAN/.test(error.message));
  // One public answer among private ones is enough to refuse (the client's pick is not ours to control).
  await assert.rejects(resolveLanTarget('mixed.example', answers([{ address: '10.0.0.1', family: 4 }, { address: '1.2.3.4', family: 4 }])), PublicAddressRefused);
  // Address literals are not looked up.
  let asked = false;
  assert.deepEqual(await resolveLanTarget('[::1]', async () => { asked = true; return []; }), { address: '::1', family: 6 });
  assert.equal(asked, false);
  await assert.rejects(resolveLanTarget('8.8.8.8'), PublicAddressRefused);
  await assert.rejects(resolveLanTarget('nothing.lan', answers([])), /did not resolve/);
});

test('signWebhook: Stripe-style t=…,v1=HMAC-SHA256(secret, "t.body") — a fixed vector computed with openssl', () => {
  // Computed independently: printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac whsec_test
  assert.equal(signWebhook('whsec_test', 1_700_000_000, '{"a":1}'), 't=1700000000,v1=38877139021993b830af32feea6e18a8da83eb2f6e49ee50bd9e4cf4ca4d3789');
});
