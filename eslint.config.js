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
  runtime: ['common', 'hardware'],
  onnx: ['common'],
  metrics: ['common'],
  logging: ['common', 'store'],
  auth: ['common', 'store'],
  config: ['common', 'store'],
  tls: ['common'],
  quantization: ['common', 'store', 'runtime', 'onnx'],
  registry: ['common', 'store', 'runtime', 'onnx'],
  batching: ['common', 'runtime'],
  experiments: ['common', 'store'],
  inference: ['common', 'registry', 'runtime', 'batching', 'logging', 'metrics'],
  jobs: ['common', 'store', 'registry', 'inference'],
  protocol: ['common', 'store', 'hardware', 'runtime', 'onnx', 'metrics', 'logging', 'auth', 'config', 'tls', 'quantization', 'registry', 'batching', 'inference', 'jobs', 'experiments'],
};

const PACKAGE_HOMES = { 'onnxruntime-node': 'runtime', 'better-sqlite3': 'store', koa: 'protocol', '@koa/router': 'protocol', '@koa/send': 'protocol' };

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
  { ignores: ['dist/**', 'node_modules/**', '.tmp/**', 'renderer/dist/**', 'test-artifacts/**'] },
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
);
