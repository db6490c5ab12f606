// @ts-check
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

/**
 * The module map of ../shared/DESIGN.md, enforced: each server folder may import only the folders
 * listed here (plus itself), the way VS Code enforces its layers. Native/runtime-heavy packages
 * have one home each.
 */
const MODULES = {
  common: [],
  store: ['common'],
  hardware: ['common'],
  // Decisions by timing (paired runs, a 95% interval, hysteresis), shared by the int8 gate and placement.
  measurement: [],
  // onnx: the measuring child checks an upload's graph before onnxruntime reads it (measurementProcess).
  runtime: ['common', 'hardware', 'measurement', 'onnx'],
  onnx: ['common'],
  metrics: ['common'],
  tracing: ['common'],
  logging: ['common', 'store'],
  auth: ['common', 'store'],
  config: ['common', 'store'],
  tls: ['common'],
  quantization: ['common', 'store', 'runtime', 'onnx', 'measurement'],
  // Where `auto` runs a version (CPU or WebGPU), by measurement with the int8 gate's tolerances.
  placement: ['common', 'store', 'runtime', 'measurement', 'quantization'],
  experiments: ['common', 'store'],
  // The serving core: served versions (batcher, cache, sessions), the OIP codec and the one pipeline.
  serving: ['common', 'runtime', 'experiments', 'tracing', 'logging', 'metrics'],
  registry: ['common', 'store', 'runtime', 'onnx', 'serving'],
  predict: ['common', 'store', 'registry', 'onnx', 'serving'],
  jobs: ['common', 'store', 'registry', 'serving', 'predict'],
  backup: ['common', 'store', 'config'],
  service: [],
  webhooks: ['common', 'store'],
  export: ['common'],
  // The built-in tuner: candidates, the tuning process (a child that loads a tuning server), the choice.
  tuning: ['common', 'store', 'hardware', 'config', 'quantization'],
  grpc: ['common', 'auth', 'registry', 'serving'],
  protocol: ['common', 'store', 'hardware', 'runtime', 'onnx', 'metrics', 'logging', 'auth', 'config', 'tls', 'quantization', 'placement', 'registry', 'serving', 'predict', 'jobs', 'experiments', 'backup', 'tracing', 'webhooks', 'export', 'tuning'],
};

const PACKAGE_HOMES = {
  'onnxruntime-node': 'runtime', 'better-sqlite3': 'store', koa: 'protocol', '@koa/router': 'protocol', '@koa/send': 'protocol', '@koa/cors': 'protocol', helmet: 'protocol',
  // Decoding untrusted images (native libvips) in one place; multipart parsing is HTTP's; CSV rows are the jobs'.
  sharp: 'predict', '@fastify/busboy': 'protocol', 'csv-parse': 'jobs', tar: 'backup', 'tar-stream': 'export',
  'prom-client': 'metrics', '@opentelemetry/api': 'tracing', '@opentelemetry/core': 'tracing', '@opentelemetry/sdk-trace-base': 'tracing', '@opentelemetry/resources': 'tracing', '@opentelemetry/exporter-trace-otlp-http': 'tracing',
  '@grpc/grpc-js': 'grpc', '@grpc/proto-loader': 'grpc',
};

const moduleZones = Object.entries(MODULES).map(([module, allowed]) => ({
  target: `./server/${module}`,
  from: './server',
  except: [`./${module}`, ...allowed.map((m) => `./${m}`)],
  message: `server/${module} may import only ${allowed.length ? allowed.join(', ') : 'nothing of ours'} (docs/ARCHITECTURE.md, module map)`,
}));

/** Per folder, the packages it may not import (one rule per folder: a later config would replace an earlier one). */
const bannedPackages = (folder) =>
  Object.entries(PACKAGE_HOMES)
    .filter(([, home]) => home !== folder)
    .map(([name, home]) => ({ name, message: `only server/${home} may import ${name}` }));

const packageRules = [
  { files: ['server/**/*.ts'], rules: { 'no-restricted-imports': ['error', { paths: bannedPackages(null) }] } },
  ...Object.keys(MODULES).map((folder) => ({
    files: [`server/${folder}/**/*.ts`],
    rules: { 'no-restricted-imports': ['error', { paths: bannedPackages(folder) }] },
  })),
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.tmp/**', 'renderer/dist/**', 'test-artifacts/**', 'release/**'] },
  ...tseslint.configs.recommended,
  {
    plugins: { 'import-x': importX },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['server/**/*.ts'],
    settings: { 'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })] },
    rules: {
      'import-x/no-restricted-paths': ['error', { zones: moduleZones }],
      'import-x/no-cycle': 'error',
    },
  },
  ...packageRules,
  // The desktop shell (electron/): pure modules that take small interfaces, tested without Electron.
  // Only main.ts and the preload touch 'electron'; nothing here loads the server in-process (it runs in
  // its own process, so a native crash cannot take the window down); of server/ only the shared
  // data-dir default may be imported.
  {
    files: ['electron/**/*.ts', 'electron/**/*.cts'],
    settings: { 'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })] },
    rules: {
      'no-restricted-imports': ['error', { paths: [
        { name: 'electron', message: 'only electron/main.ts and electron/preload.cts import electron; put logic in a plain module that takes an interface' },
        ...Object.keys(PACKAGE_HOMES).map((name) => ({ name, message: 'the server runs in its own process (ServerSupervisor), not in the Electron main process' })),
      ] }],
      'import-x/no-restricted-paths': ['error', { zones: [{
        target: './electron',
        from: './server',
        except: ['./config/defaultDataDir.ts', './config/ServerStateFile.ts'],
        message: 'electron/ talks to the server over HTTP and its CLI; of server/ it shares only config/defaultDataDir and config/ServerStateFile (how a running server is found)',
      }] }],
      'import-x/no-cycle': 'error',
    },
  },
  { files: ['electron/main.ts', 'electron/preload.cts'], rules: { 'no-restricted-imports': ['error', { paths: Object.keys(PACKAGE_HOMES).map((name) => ({ name, message: 'the server runs in its own process' })) }] } },
);
