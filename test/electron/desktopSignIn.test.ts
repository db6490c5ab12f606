import assert from 'node:assert/strict';
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { adminKeyFor, readAdminKey } from '../../electron/desktopSignIn.js';
import { makeDataDir } from '../helpers/testServer.js';

const KEY = 'ibx_abcdEFGH1234_' + 'x'.repeat(43);
const server = 'http://127.0.0.1:8000';

test('desktopSignIn: reads admin.key from the data dir; missing or malformed gives null', async () => {
  const dataDir = await makeDataDir();
  try {
    assert.equal(await readAdminKey(dataDir), null, 'first start not finished yet');
    await writeFile(join(dataDir, 'admin.key'), `${KEY}\n`, { mode: 0o600 });
    assert.equal(await readAdminKey(dataDir), KEY, 'trimmed');
    assert.equal(await adminKeyFor({ frameUrl: `${server}/`, serverLocalUrl: server, fromAppWindowMainFrame: true }, dataDir), KEY);
    assert.equal(await adminKeyFor({ frameUrl: 'http://192.168.1.5:8000/', serverLocalUrl: server, fromAppWindowMainFrame: true }, dataDir), null);
    await writeFile(join(dataDir, 'admin.key'), 'not a key\n');
    assert.equal(await readAdminKey(dataDir), null);
    const other = join(dataDir, 'unreadable');
    await mkdir(other);
    await writeFile(join(other, 'admin.key'), KEY);
    await chmod(join(other, 'admin.key'), 0o000);
    if (process.getuid?.() !== 0) await assert.rejects(readAdminKey(other), /EACCES/, 'other errors are not hidden as "no key"');
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});
