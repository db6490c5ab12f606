import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseServeOptions, UsageError } from '../../../server/cli/parseServeOptions.js';
import { grpcPortOf, resolveSettings } from '../../../server/config/serverSettings.js';

test('grpc_port: auto is the REST port + 1 (a free port beside a free REST port), a number is that port, off is none', () => {
  assert.equal(grpcPortOf(resolveSettings({})), 8001, 'Triton and KServe default pair 8000/8001');
  assert.equal(grpcPortOf(resolveSettings({ port: 9000 })), 9001);
  assert.equal(grpcPortOf(resolveSettings({ port: 0 })), 0, 'side-by-side instances on free ports must not fight over a fixed one');
  assert.equal(grpcPortOf(resolveSettings({ port: 65535 })), 0, 'there is no port above 65535');
  assert.equal(grpcPortOf(resolveSettings({ port: 9000, grpc_port: 7000 })), 7000);
  assert.equal(grpcPortOf(resolveSettings({ port: 9000, grpc_port: 0 })), 0);
  assert.equal(grpcPortOf(resolveSettings({ grpc_port: 'off' })), null);
  assert.throws(() => resolveSettings({ grpc_port: 70000 }));
  assert.throws(() => resolveSettings({ grpc_port: 'on' }));
});

test('--grpc-port / INFERBOX_GRPC_PORT: digits are a port, auto and off are words, anything else is a usage error', () => {
  assert.equal(parseServeOptions({ 'grpc-port': '9101' }, {}).overrides?.grpc_port, 9101);
  assert.equal(parseServeOptions({}, { INFERBOX_GRPC_PORT: 'off' }).overrides?.grpc_port, 'off');
  assert.equal(parseServeOptions({ 'grpc-port': 'auto' }, { INFERBOX_GRPC_PORT: 'off' }).overrides?.grpc_port, 'auto', 'the flag wins');
  assert.equal(parseServeOptions({}, {}).overrides?.grpc_port, undefined, 'unset: saved setting or default');
  for (const bad of ['-1', '70000', 'on', '80.5', '']) {
    assert.throws(() => parseServeOptions({ 'grpc-port': bad }, {}), (e: unknown) => e instanceof UsageError && /--grpc-port/.test(e.message), bad);
  }
});
