import { startTestServer } from './test/helpers/testServer.js';
console.time('start');
const s = await startTestServer({ overrides: { host: '0.0.0.0', port: 0 } });
console.timeEnd('start');
console.log(s.running.urls, s.running.tlsFingerprint);
await s.cleanup();
console.log('closed');
