import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ESLint } from 'eslint';

const eslint = new ESLint({ cwd: new URL('../..', import.meta.url).pathname });

async function problems(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).map((m) => `${m.ruleId}: ${m.message}`);
}

test('onnxruntime-node, better-sqlite3 and koa are refused outside their home folder', async () => {
  const found = await problems('server/registry/probe.ts', "import * as ort from 'onnxruntime-node';\nimport Database from 'better-sqlite3';\nimport Koa from 'koa';\nexport const all = [ort, Database, Koa];\n");
  assert.equal(found.filter((p) => p.startsWith('no-restricted-imports')).length, 3, found.join('\n'));
  assert.deepEqual(await problems('server/runtime/probe.ts', "import * as ort from 'onnxruntime-node';\nexport const o = ort;\n"), []);
});

test('the module map refuses an import against the layering', async () => {
  const found = await problems('server/common/probe.ts', "import { Store } from '../store/Store.js';\nexport const s = Store;\n");
  assert.ok(found.some((p) => p.startsWith('import-x/no-restricted-paths')), found.join('\n'));
  assert.deepEqual(await problems('server/store/probe.ts', "import { inferboxError } from '../common/errors.js';\nexport const e = inferboxError;\n"), []);
});

test('electron/: only main.ts imports electron; no server internals (the server runs in its own process) but the data-dir default', async () => {
  const found = await problems('electron/probe.ts', "import { app } from 'electron';\nimport { Store } from '../server/store/Store.js';\nimport Database from 'better-sqlite3';\nexport const all = [app, Store, Database];\n");
  assert.equal(found.filter((p) => p.startsWith('no-restricted-imports')).length, 2, found.join('\n'));
  assert.ok(found.some((p) => p.startsWith('import-x/no-restricted-paths')), found.join('\n'));
  assert.deepEqual(await problems('electron/main.ts', "import { app } from 'electron';\nimport { defaultDataDir } from '../server/config/defaultDataDir.js';\nexport const all = [app, defaultDataDir];\n"), []);
});

test('@grpc/grpc-js stays in server/grpc, which the REST protocol module may not import; serving/ stays free of both transports', async () => {
  const outside = await problems('server/protocol/probe.ts', "import { Server } from '@grpc/grpc-js';\nimport { startGrpcServer } from '../grpc/startGrpcServer.js';\nexport const all = [Server, startGrpcServer];\n");
  assert.ok(outside.some((p) => p.startsWith('no-restricted-imports')), outside.join('\n'));
  assert.ok(outside.some((p) => p.startsWith('import-x/no-restricted-paths')), outside.join('\n'));
  const serving = await problems('server/serving/probe.ts', "import Koa from 'koa';\nimport { Server } from '@grpc/grpc-js';\nexport const all = [Koa, Server];\n");
  assert.equal(serving.filter((p) => p.startsWith('no-restricted-imports')).length, 2, serving.join('\n'));
  assert.deepEqual(await problems('server/grpc/probe.ts', "import { Server } from '@grpc/grpc-js';\nimport { modelMetadata } from '../registry/modelMetadata.js';\nexport const all = [Server, modelMetadata];\n"), []);
});
