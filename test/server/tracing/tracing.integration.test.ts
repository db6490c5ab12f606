import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { inferenceClient } from '../../helpers/grpcClient.js';
import { GENTOO_FEATURES, startTestServer, type TestServer } from '../../helpers/testServer.js';

/**
 * W3C Trace Context and OpenTelemetry export on a real server (127.0.0.1, real SQLite and
 * onnxruntime), with a real OTLP/HTTP receiver: a small HTTP server on 127.0.0.1 that takes the
 * exporter's JSON payloads (OTLP/JSON: ids in hex, times in ns, attributes as typed values).
 */
interface OtlpValue { stringValue?: string; intValue?: number | string; boolValue?: boolean; doubleValue?: number }
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: { key: string; value: OtlpValue }[];
  status?: { code?: number };
}
interface ExportedSpan extends OtlpSpan { resource: Record<string, unknown> }

const plain = (value: OtlpValue): unknown => value.stringValue ?? (value.intValue !== undefined ? Number(value.intValue) : (value.boolValue ?? value.doubleValue));
const attributesOf = (span: { attributes: { key: string; value: OtlpValue }[] }) => Object.fromEntries(span.attributes.map((a) => [a.key, plain(a.value)]));

/** The OTLP/HTTP receiver: collects every exported span with its resource attributes. */
async function startReceiver(): Promise<{ url: string; spans: ExportedSpan[]; requests: { path: string; contentType: string }[]; close(): Promise<void> }> {
  const spans: ExportedSpan[] = [];
  const requests: { path: string; contentType: string }[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => { body += chunk; });
    req.on('end', () => {
      requests.push({ path: req.url ?? '', contentType: req.headers['content-type'] ?? '' });
      const payload = JSON.parse(body) as { resourceSpans: { resource: { attributes: { key: string; value: OtlpValue }[] }; scopeSpans: { spans: OtlpSpan[] }[] }[] };
      for (const resourceSpans of payload.resourceSpans) {
        const resource = attributesOf(resourceSpans.resource);
        for (const scope of resourceSpans.scopeSpans) for (const span of scope.spans) spans.push({ ...span, resource });
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/v1/traces`, spans, requests, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

let server: TestServer;
let inferKey: string;
const body = { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: GENTOO_FEATURES }] };
const CALLER_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN = '00f067aa0ba902b7';
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-(0[01])$/;

const infer = (headers: Record<string, string> = {}, path = '/v2/models/mlp/infer') => server.request('POST', path, { key: inferKey, json: body, headers });

async function settings(values: Record<string, unknown>): Promise<Response> {
  return server.request('PUT', '/api/settings', { json: values });
}

/** The request-log row of a request id (rows are written in batches every 500 ms). */
async function logRow(requestId: string): Promise<{ trace_id: string | null; status: number }> {
  for (let i = 0; i < 40; i++) {
    const { logs } = (await (await server.request('GET', '/api/logs?limit=1000')).json()) as { logs: { request_id: string; trace_id: string | null; status: number }[] };
    const row = logs.find((l) => l.request_id === requestId);
    if (row) return row;
    await sleep(100);
  }
  throw new Error(`no log row for ${requestId}`);
}

before(async () => {
  server = await startTestServer();
  const created = await server.request('POST', '/api/keys', { json: { name: 'app', scopes: ['infer'] } });
  inferKey = ((await created.json()) as { key: string }).key;
});
after(() => server.cleanup());

describe('trace context with tracing off (the default)', () => {
  test('a valid traceparent continues the caller trace: same trace id and flags, a new span id; tracestate passed on; the log row has the trace id', async () => {
    const response = await infer({ traceparent: `00-${CALLER_TRACE}-${CALLER_SPAN}-01`, tracestate: 'vendor=abc,other=1' });
    assert.equal(response.status, 200);
    const [, traceId, spanId, flags] = TRACEPARENT.exec(response.headers.get('traceparent') ?? '') ?? [];
    assert.equal(traceId, CALLER_TRACE);
    assert.notEqual(spanId, CALLER_SPAN, "the server's own span is the parent for whatever follows");
    assert.equal(flags, '01', 'the sampled flag is passed on');
    assert.equal(response.headers.get('tracestate'), 'vendor=abc,other=1');
    assert.ok(response.headers.get('server-timing')?.includes('infer;dur='), 'Server-Timing stays');
    assert.equal((await logRow(response.headers.get('x-request-id')!)).trace_id, CALLER_TRACE);
    const found = (await (await server.request('GET', `/api/logs?trace_id=${CALLER_TRACE}`)).json()) as { logs: { request_id: string }[] };
    assert.ok(found.logs.some((l) => l.request_id === response.headers.get('x-request-id')), 'the log can be searched by trace id');
  });

  test('no traceparent, or an invalid one, starts a new trace (an invalid one also drops tracestate); errors carry their trace too', async () => {
    const ids = new Set<string>();
    for (const headers of [{}, { traceparent: 'garbage', tracestate: 'vendor=abc' }, { traceparent: `00-${'0'.repeat(32)}-${CALLER_SPAN}-01` }, { traceparent: `ff-${CALLER_TRACE}-${CALLER_SPAN}-01` }] as Record<string, string>[]) {
      const response = await infer(headers);
      assert.equal(response.status, 200);
      const [, traceId, , flags] = TRACEPARENT.exec(response.headers.get('traceparent') ?? '') ?? [];
      assert.ok(traceId && traceId !== CALLER_TRACE && traceId !== '0'.repeat(32), JSON.stringify(headers));
      assert.equal(flags, '00', 'nothing is recorded while tracing is off');
      assert.equal(response.headers.get('tracestate'), null);
      assert.equal((await logRow(response.headers.get('x-request-id')!)).trace_id, traceId);
      ids.add(traceId);
    }
    assert.equal(ids.size, 4, 'each new trace has its own id');
    const refused = await infer({ traceparent: `00-${CALLER_TRACE}-${CALLER_SPAN}-01` }, '/v2/models/no-such-model/infer');
    assert.equal(refused.status, 404);
    assert.match(refused.headers.get('traceparent') ?? '', new RegExp(`^00-${CALLER_TRACE}-`));
    assert.equal((await logRow(refused.headers.get('x-request-id')!)).trace_id, CALLER_TRACE);
  });

  test('the OTLP endpoint must be on this machine or the LAN: public addresses and host names are refused with a clear error', async () => {
    for (const endpoint of ['http://8.8.8.8:4318/v1/traces', 'https://collector.example.com/v1/traces', 'http://[2001:db8::1]:4318/v1/traces', 'ftp://10.0.0.5/v1/traces', 'http://user:secret@10.0.0.5:4318/v1/traces', 'not a url']) {
      const response = await settings({ otlp_traces_endpoint: endpoint });
      assert.equal(response.status, 400, endpoint);
      assert.match(((await response.json()) as { error: string }).error, /otlp_traces_endpoint.*cannot leave the local network/, endpoint);
    }
    const view = (await (await server.request('GET', '/api/settings')).json()) as { effective: { otlp_traces_endpoint: string } };
    assert.equal(view.effective.otlp_traces_endpoint, '', 'nothing was saved');
  });
});

describe('export to an OTLP/HTTP collector', () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  before(async () => {
    receiver = await startReceiver();
    const response = await settings({ otlp_traces_endpoint: receiver.url });
    assert.equal(response.status, 200, await response.text());
    await untilRecording();
  });
  after(async () => {
    await settings({ otlp_traces_endpoint: null });
    await receiver.close();
  });

  /**
   * The tracer follows a settings change at the next request and loads the SDK meanwhile; a new
   * trace answered with the sampled flag shows the pipeline records.
   */
  const untilRecording = async () => {
    for (let i = 0; i < 100; i++) {
      if ((await infer()).headers.get('traceparent')?.endsWith('-01')) return;
      await sleep(50);
    }
    throw new Error('the trace pipeline did not start');
  };

  const spansOf = async (traceId: string, count: number): Promise<ExportedSpan[]> => {
    for (let i = 0; i < 100; i++) {
      const found = receiver.spans.filter((s) => s.traceId === traceId);
      if (found.length >= count) return found;
      await sleep(100);
    }
    throw new Error(`expected ${count} spans of ${traceId}, got ${receiver.spans.filter((s) => s.traceId === traceId).length}`);
  };

  test('a request span under the caller span, with decode, queue, batch, inference and serialization spans under it', async () => {
    const response = await infer({ traceparent: `00-${CALLER_TRACE}-${CALLER_SPAN}-01`, tracestate: 'vendor=abc' });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('tracestate'), 'vendor=abc');
    const [, traceId, spanId, flags] = TRACEPARENT.exec(response.headers.get('traceparent') ?? '') ?? [];
    assert.equal(traceId, CALLER_TRACE);
    assert.equal(flags, '01');
    const spans = await spansOf(CALLER_TRACE, 6);
    const server_ = spans.find((s) => s.spanId === spanId);
    assert.ok(server_, 'the span named in the answer was exported');
    assert.equal(server_.name, 'POST /v2/models/{model}/infer');
    assert.equal(server_.parentSpanId, CALLER_SPAN);
    assert.equal(server_.kind, 2, 'SERVER');
    const attributes = attributesOf(server_);
    assert.equal(attributes['inferbox.model'], 'mlp');
    assert.equal(attributes['inferbox.model_version'], '1');
    assert.equal(attributes['http.response.status_code'], 200);
    assert.equal(attributes['http.route'], '/v2/models/{model}/infer');
    assert.equal(attributes['inferbox.request_id'], response.headers.get('x-request-id'));
    assert.equal(server_.resource['service.name'], 'inferbox');
    const children = spans.filter((s) => s.parentSpanId === spanId);
    assert.deepEqual(children.map((s) => s.name).sort(), ['batch', 'decode', 'inference', 'queue', 'serialization']);
    const start = (s: OtlpSpan) => BigInt(s.startTimeUnixNano);
    const end = (s: OtlpSpan) => BigInt(s.endTimeUnixNano);
    for (const child of children) {
      assert.ok(start(child) >= start(server_) && end(child) <= end(server_), `${child.name} lies within the request span`);
      assert.ok(end(child) >= start(child));
    }
    const byName = Object.fromEntries(children.map((s) => [s.name, s]));
    assert.ok(end(byName.decode!) <= start(byName.queue!) && end(byName.queue!) <= start(byName.batch!) && end(byName.batch!) <= start(byName.inference!), 'stages in order');
    assert.equal(attributesOf(byName.batch!)['inferbox.batch.rows'], 1);
    assert.ok(receiver.requests.every((r) => r.path === '/v1/traces' && r.contentType.startsWith('application/json')));
  });

  test('a new trace is recorded too; a caller that did not sample its trace is followed (nothing exported); a refused request (404) is recorded with its status, not as a server error', async () => {
    const unsampled = `${'1'.repeat(31)}2`;
    const notSampled = await infer({ traceparent: `00-${unsampled}-${CALLER_SPAN}-00` });
    assert.match(notSampled.headers.get('traceparent') ?? '', new RegExp(`^00-${unsampled}-[0-9a-f]{16}-00$`));
    const fresh = await infer();
    const [, freshTrace] = TRACEPARENT.exec(fresh.headers.get('traceparent') ?? '') ?? [];
    assert.equal((await spansOf(freshTrace!, 6)).length, 6);
    const failed = await infer({}, '/v2/models/no-such-model/infer');
    assert.equal(failed.status, 404);
    const [, failedTrace] = TRACEPARENT.exec(failed.headers.get('traceparent') ?? '') ?? [];
    const [span] = await spansOf(failedTrace!, 1);
    assert.equal(attributesOf(span!)['http.response.status_code'], 404);
    assert.notEqual(span!.status?.code, 2, 'a 4xx is the caller’s, not an error of the server span');
    assert.equal(receiver.spans.filter((s) => s.traceId === unsampled).length, 0, 'the unsampled trace was never exported');
  });

  test('gRPC ModelInfer is traced on the same path: the caller\'s trace continues, an RPC server span with the stage spans under it', async () => {
    const grpcTrace = 'a'.repeat(31) + '1';
    const client = inferenceClient(server.running.grpcTargets[0]!, inferKey);
    try {
      const raw = Buffer.alloc(16);
      GENTOO_FEATURES.forEach((v, i) => raw.writeFloatLE(v, i * 4));
      const answer = await client.call('ModelInfer', { model_name: 'mlp', inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4] }], raw_input_contents: [raw] }, { metadata: { traceparent: `00-${grpcTrace}-${CALLER_SPAN}-01` } });
      assert.equal(answer.error, null);
      const [, traceId, spanId] = TRACEPARENT.exec(String(answer.headers?.get('traceparent')[0])) ?? [];
      assert.equal(traceId, grpcTrace);
      const spans = await spansOf(grpcTrace, 6);
      const rpc = spans.find((s) => s.spanId === spanId);
      assert.ok(rpc, 'the span named in the answer metadata was exported');
      assert.equal(rpc.name, 'inference.GRPCInferenceService/ModelInfer');
      assert.equal(rpc.parentSpanId, CALLER_SPAN);
      const attributes = attributesOf(rpc);
      assert.deepEqual([attributes['rpc.system'], attributes['rpc.method'], attributes['inferbox.model'], attributes['http.route']], ['grpc', 'ModelInfer', 'mlp', undefined]);
      assert.deepEqual(spans.filter((s) => s.parentSpanId === spanId).map((s) => s.name).sort(), ['batch', 'decode', 'inference', 'queue', 'serialization']);
    } finally {
      client.close();
    }
  });

  test('turning the endpoint off stops the export', async () => {
    assert.equal((await settings({ otlp_traces_endpoint: '' })).status, 200);
    await infer(); // the first request after the change applies it
    await sleep(1500); // past one export interval: the old pipeline has sent what it held
    const before = receiver.spans.length;
    const response = await infer();
    await sleep(1500);
    assert.equal(receiver.spans.length, before, 'no new spans');
    assert.match(response.headers.get('traceparent') ?? '', /-00$/);
  });
});
