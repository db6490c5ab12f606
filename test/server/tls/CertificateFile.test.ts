import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CertificateFile } from '../../../server/tls/CertificateFile.js';
import { createSelfSignedCertificate } from '../../../server/tls/createSelfSignedCertificate.js';

const withDir = async (body: (dir: string) => Promise<void>) => {
  const dir = await mkdtemp(join(tmpdir(), 'inferbox-tls-'));
  try {
    await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
};

test('a data dir from before tls.json (tls.key + tls.crt) keeps its key: moved into tls.json, tls.key removed', () =>
  withDir(async (dir) => {
    const old = await createSelfSignedCertificate({ hostname: 'box', addresses: ['192.0.2.10'] });
    await writeFile(join(dir, 'tls.key'), old.key, { mode: 0o600 });
    await writeFile(join(dir, 'tls.crt'), old.cert);
    const stored = await new CertificateFile(dir).read();
    assert.ok(stored);
    assert.equal(stored.key, old.key);
    assert.equal(stored.cert, old.cert);
    assert.equal(stored.source, 'generated');
    assert.deepEqual(stored.network, { hostname: 'box', addresses: ['192.0.2.10'] });
    assert.deepEqual((await readdir(dir)).sort(), ['tls.crt', 'tls.json']);
    assert.equal((await stat(join(dir, 'tls.json'))).mode & 0o777, 0o600);
    assert.deepEqual(await new CertificateFile(dir).read(), stored, 'the next read finds the same pair');
  }));

test('writes replace the pair whole, leave no temporary files, and a crash leftover is removed; a damaged tls.json is an error, not a new key', () =>
  withDir(async (dir) => {
    const file = new CertificateFile(dir);
    assert.equal(await file.read(), null);
    const pair = await createSelfSignedCertificate({ hostname: 'box', addresses: [] });
    const stored = { ...pair, source: 'uploaded' as const, network: { hostname: 'box', addresses: [] }, lastChange: { kind: 'uploaded' as const, at: new Date().toISOString(), reason: 'by an admin' } };
    await file.write(stored);
    assert.deepEqual((await readdir(dir)).sort(), ['tls.crt', 'tls.json']);
    assert.equal(await readFile(join(dir, 'tls.crt'), 'utf8'), pair.cert);

    // A crash after tls.json was renamed but before tls.crt: the copy is brought back in step on read.
    await writeFile(join(dir, 'tls.crt'), 'stale');
    await writeFile(join(dir, 'tls.json.1a2b3c.tmp'), 'half a key');
    assert.deepEqual(await file.read(), stored);
    assert.equal(await readFile(join(dir, 'tls.crt'), 'utf8'), pair.cert);
    assert.deepEqual((await readdir(dir)).sort(), ['tls.crt', 'tls.json']);

    await writeFile(join(dir, 'tls.json'), '{"format": 1, "source": "generated"');
    await assert.rejects(file.read(), SyntaxError);
  }));
