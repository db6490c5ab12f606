import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isLanHost } from '../../../server/common/isLanHost.js';

test('loopback, private and link-local addresses are LAN; public addresses and host names are not', () => {
  const lan = ['localhost', '127.0.0.1', '127.9.9.9', '10.0.0.1', '172.16.0.1', '172.31.255.254', '192.168.1.20', '169.254.10.1', '[::1]', '::1', '[fd12:3456::1]', '[fe80::1]', '[::ffff:a00:1]'];
  const outside = ['8.8.8.8', '172.32.0.1', '172.15.255.255', '100.64.0.1', '192.0.2.1', '[2001:db8::1]', '[2606:4700::1111]', '[::ffff:808:808]', 'collector.local', 'otel.example.com', '', '0.0.0.0', '[::]'];
  for (const host of lan) assert.equal(isLanHost(host), true, host);
  for (const host of outside) assert.equal(isLanHost(host), false, host);
});

test('hosts as the URL parser writes them (numeric forms normalized) are judged by their address', () => {
  const host = (url: string) => new URL(url).hostname;
  assert.equal(isLanHost(host('http://2130706433:4318/v1/traces')), true, '127.0.0.1 as one number');
  assert.equal(isLanHost(host('http://0x0a.1:4318/')), true, '10.0.0.1');
  assert.equal(isLanHost(host('http://134744072/')), false, '8.8.8.8 as one number');
  assert.equal(isLanHost(host('http://[::ffff:8.8.8.8]/')), false, 'an IPv4-mapped public address');
});
