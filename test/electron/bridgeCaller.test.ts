import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isOwnConsoleFrame } from '../../electron/bridgeCaller.js';

const server = 'http://127.0.0.1:8000';
const ask = (frameUrl: string, serverLocalUrl: string | null = server, fromAppWindowMainFrame = true) => isOwnConsoleFrame({ frameUrl, serverLocalUrl, fromAppWindowMainFrame });

test('bridgeCaller: the bridge answers only the running server\'s own loopback origin', () => {
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
