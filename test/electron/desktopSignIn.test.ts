import assert from 'node:assert/strict';
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { adminKeyFor, mayReceiveAdminKey, readAdminKey } from '../../electron/desktopSignIn.js';
import { makeDataDir } from '../helpers/testServer.js';

const KEY = 'ibx_abcdEFGH1234_' + 'x'.repeat(43);
const server = 'http://127.0.0.1:8000';
const ask = (frameUrl: string, serverLocalUrl: string | null = server, fromAppWindowMainFrame = true) => mayReceiveAdminKey({ frameUrl, serverLocalUrl, fromAppWindowMainFrame });

test('desktopSignIn: the key goes only to the running server\'s own loopback origin', () => {
  assert.equal(ask('http://127.0.0.1:8000/'), true);
  assert.equal(ask('http://127.0.0.1:8000/#/models'), true, 'any page of the console');
  assert.equal(ask('https://localhost:8443/', 'https://localhost:8443'), true, 'HTTPS on localhost (LAN mode: the window uses the localhost URL)');
  assert.equal(ask('http://[::1]:8000/', 'http://[::1]:8000'), true);

  assert.equal(ask('http://192.168.1.5:8000/', 'http://192.168.1.5:8000'), false, 'a LAN origin, even the appliance\'s own');
  assert.equal(ask('http://192.168.1.5:8000/'), false, 'another host than the window\'s server');
  assert.equal(ask('http://127.0.0.1:8001/'), false, 'another port on loopback: another program');
  assert.equal(ask('https://127.0.0.1:8000/'), false, 'https page, http server');
  assert.equal(ask('http://localhost:8443/', 'https://localhost:8443'), false, 'http page, https server');
  assert.equal(ask('http://localhost:8000/'), false, 'localhost is not the same origin as 127.0.0.1');
  assert.equal(ask('https://example.com/'), false);
  assert.equal(ask('file:///etc/passwd'), false);
  assert.equal(ask('about:blank'), false);
  assert.equal(ask('data:text/html,<script>1</script>'), false);
  assert.equal(ask('not a url'), false);
  assert.equal(ask('http://127.0.0.1:8000/', null), false, 'no server running: nobody gets it');
  assert.equal(ask('http://127.0.0.1:8000/', server, false), false, 'an iframe or another window, even on the origin');
});

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
