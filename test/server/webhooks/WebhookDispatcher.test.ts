import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Store } from '../../../server/store/Store.js';
import { WebhookDispatcher } from '../../../server/webhooks/WebhookDispatcher.js';
import { WebhookService } from '../../../server/webhooks/WebhookService.js';

/**
 * The dispatcher with a real SQLite store and a real receiver on 127.0.0.1, and a name resolver
 * that answers what a hostile DNS server would: first a LAN address, then a public one (DNS
 * rebinding). There is no public DNS here, so the resolver is the one injected part.
 */
test('a name that resolves to a public address is refused at delivery, marked failed at once, never connected to', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'inferbox-webhooks-'));
  const store = Store.open(join(dir, 'db.sqlite'));
  let hits = 0;
  const receiver = createServer((_req, res) => { hits++; res.writeHead(200).end(); });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const port = (receiver.address() as AddressInfo).port;
  const answers = ['127.0.0.1', '93.184.216.34'];
  const dispatcher = new WebhookDispatcher({
    repository: store.webhooks,
    settings: () => ({ maxAttempts: 5, retryInitialSeconds: 0.01, retryMaxSeconds: 0.01, timeoutSeconds: 5 }),
    userAgent: 'test',
    lookup: async () => [{ address: answers.shift() ?? '93.184.216.34', family: 4 }],
    onError: (error) => { throw error; },
  });
  const service = new WebhookService({ repository: store.webhooks, notify: () => dispatcher.notify(), onError: (error) => { throw error; } });
  try {
    dispatcher.start();
    const hook = service.create({ url: `http://rebind.example:${port}/hook` });
    const first = service.test(hook.id);
    for (let i = 0; i < 400 && store.webhooks.getDelivery(first.delivery_id)?.status === 'pending'; i++) await sleep(10);
    assert.equal(store.webhooks.getDelivery(first.delivery_id)?.status, 'delivered', 'the LAN answer is delivered (to the checked address)');
    assert.equal(hits, 1);

    const second = service.test(hook.id);
    for (let i = 0; i < 400 && store.webhooks.getDelivery(second.delivery_id)?.status === 'pending'; i++) await sleep(10);
    const refused = store.webhooks.getDelivery(second.delivery_id)!;
    assert.equal(refused.status, 'failed');
    assert.equal(refused.attempts, 1, 'not retried: retrying does not make a public address safe');
    assert.match(String(refused.last_error), /rebind\.example resolves to 93\.184\.216\.34, which is not on the LAN: refused/);
    assert.equal(hits, 1, 'nothing was sent');
  } finally {
    await dispatcher.close();
    store.close();
    receiver.close();
    await rm(dir, { recursive: true, force: true });
  }
});
