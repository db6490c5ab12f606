import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { ERROR_TABLE, InferboxError } from '../../../server/common/errors.js';

test('every error code is documented in docs/ERRORS.md with its status', async () => {
  const doc = await readFile(new URL('../../../docs/ERRORS.md', import.meta.url), 'utf8');
  for (const [code, { status }] of Object.entries(ERROR_TABLE)) {
    assert.match(doc, new RegExp(`\\| \`${code}\` \\| ${status} \\|`), `${code} (${status}) is missing from docs/ERRORS.md`);
  }
});

test('messages are filled from the template and carry the status', () => {
  const error = new InferboxError('IBX_ERR_MISSING_INPUT', ['features', 'mlp']);
  assert.equal(error.status, 400);
  assert.equal(error.message, "missing input 'features' for model 'mlp'");
});
