import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseServeOptions, UsageError } from '../../../server/cli/parseServeOptions.js';
import { defaultDataDir } from '../../../server/config/defaultDataDir.js';
import { resolveSettings } from '../../../server/config/serverSettings.js';

describe('settings precedence: flag > environment > saved > default', () => {
  test('defaults: LAN bind on 8000, TLS auto', () => {
    assert.deepEqual({ ...resolveSettings() }, { host: '0.0.0.0', port: 8000, grpc_port: 'auto', tls: 'auto', log_retention_days: 30, payload_retention_days: 7, max_infer_body_bytes: 67108864, max_model_bytes: 4294967296, batch_max_size: 32, batch_max_queue_delay_micros: 0, batch_max_queue_size: 1024, model_idle_unload_seconds: 0, cache_max_bytes: 67108864, int8_min_top1_agreement: 0.99, int8_min_cosine: 0.995, int8_min_speedup: 1.05, job_max_items: 10000, job_max_body_bytes: 67108864,
      key_rate_limit_per_second: 0, key_rate_limit_burst: 50, auth_failures_before_backoff: 10, auth_backoff_initial_seconds: 1, auth_backoff_max_seconds: 60,
      auth_block_after_failures: 30, auth_block_seconds: 900, auth_failure_half_life_seconds: 3600, cors_allowed_origins: [],
      predict_max_rows: 1000, predict_max_body_bytes: 16777216, predict_max_image_pixels: 40000000,
      model_memory_budget_bytes: 0, disk_low_space_warning_bytes: 1073741824,
      backup_interval_hours: 0, backup_keep: 7, backup_dir: '', shutdown_drain_seconds: 10,
      metrics_loopback_without_key: false, otlp_traces_endpoint: '', tracing_sample_ratio: 1, pipeline_max_treatment_share: 0.1, capacity_warning_ratio: 0.8,
      webhook_max_attempts: 10, webhook_retry_initial_seconds: 10, webhook_retry_max_seconds: 3600, webhook_timeout_seconds: 10 });
  });

  test('a flag beats the environment, which beats a saved setting', () => {
    const fromEnv = parseServeOptions({}, { INFERBOX_PORT: '9001', INFERBOX_HOST: '127.0.0.1', INFERBOX_TLS: 'off', INFERBOX_DATA_DIR: '/d' });
    assert.deepEqual(fromEnv.overrides, { host: '127.0.0.1', port: 9001, tls: 'off' });
    assert.equal(fromEnv.dataDir, '/d');
    const fromFlag = parseServeOptions({ port: '9002', 'data-dir': '/f' }, { INFERBOX_PORT: '9001', INFERBOX_DATA_DIR: '/d' });
    assert.equal(fromFlag.overrides?.port, 9002);
    assert.equal(fromFlag.dataDir, '/f');
    assert.equal(resolveSettings({ port: 7000 }, fromFlag.overrides ?? {}).port, 9002);
    assert.equal(resolveSettings({ port: 7000 }, {}).port, 7000);
  });

  test('bad values are usage errors that name the flag', () => {
    assert.throws(() => parseServeOptions({ port: 'eighty' }, {}), (e: unknown) => e instanceof UsageError && /--port/.test(e.message));
    assert.throws(() => parseServeOptions({ tls: 'maybe' }, {}), /--tls/);
    assert.throws(() => parseServeOptions({}, { INFERBOX_PORT: '70000' }), /INFERBOX_PORT/);
  });
});

test('data directory per platform', () => {
  assert.equal(defaultDataDir('linux', {}, '/home/a'), '/home/a/.local/share/inferbox');
  assert.equal(defaultDataDir('linux', { XDG_DATA_HOME: '/x' }, '/home/a'), '/x/inferbox');
  assert.equal(defaultDataDir('darwin', {}, '/Users/a'), '/Users/a/Library/Application Support/Inferbox');
  assert.match(defaultDataDir('win32', { APPDATA: 'C:\\Users\\a\\AppData\\Roaming' }, 'C:\\Users\\a'), /Roaming.Inferbox$/);
});
