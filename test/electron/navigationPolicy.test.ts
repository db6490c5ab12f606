import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decideNavigation, decideWindowOpen } from '../../electron/navigationPolicy.js';

const origin = 'http://127.0.0.1:8000';

test('navigationPolicy: the window stays on the server\'s origin; web links go to the system browser; other schemes nowhere', () => {
  assert.equal(decideNavigation('http://127.0.0.1:8000/', origin), 'allow');
  assert.equal(decideNavigation('http://127.0.0.1:8000/#/keys', origin), 'allow');
  assert.equal(decideNavigation('http://127.0.0.1:8001/', origin), 'open-external', 'another port is another site');
  assert.equal(decideNavigation('https://127.0.0.1:8000/', origin), 'open-external', 'another scheme is another origin');
  assert.equal(decideNavigation('http://localhost:8000/', origin), 'open-external');
  assert.equal(decideNavigation('https://github.com/kserve/open-inference-protocol', origin), 'open-external');
  assert.equal(decideNavigation('mailto:admin@example.com', origin), 'open-external');
  for (const url of ['file:///etc/passwd', 'javascript:alert(1)', 'data:text/html,hi', 'ms-msdt:/id foo', 'smb://host/share', 'chrome://settings', 'not a url']) {
    assert.equal(decideNavigation(url, origin), 'deny', url);
  }
  assert.equal(decideNavigation('http://127.0.0.1:8000/', null), 'open-external', 'no server yet: nothing is in-app');
});

test('navigationPolicy: window.open never makes an Electron window', () => {
  assert.equal(decideWindowOpen('http://127.0.0.1:8000/'), 'open-external');
  assert.equal(decideWindowOpen('https://onnx.ai/'), 'open-external');
  assert.equal(decideWindowOpen('file:///C:/Windows/System32/calc.exe'), 'deny');
  assert.equal(decideWindowOpen('about:blank'), 'deny');
});
