/**
 * A bad-key flood for `npm run bench:auth`, in its own process so it does not share an event loop
 * with the client that measures valid traffic. Usage: badKeyFlood.ts <port> <first address>
 * <address count> <requests/s, 0 = as fast as it can> <seconds>. Each address (127.0.0.x, one
 * keep-alive connection pool each) sends GET /v2/models/mlp with a well-formed key that does not
 * exist. Prints one JSON line: {"sent", "rps", "statuses": {"401": n, "429": n, ...}}.
 */
import { Agent, request } from 'node:http';

const [port, firstAddress, countText, rateText, secondsText] = process.argv.slice(2);
const count = Number(countText);
const rate = Number(rateText);
const seconds = Number(secondsText);
const base = firstAddress!.split('.').map(Number);
const addresses = Array.from({ length: count }, (_, i) => [base[0], base[1], base[2], base[3]! + i].join('.'));
const agents = addresses.map((localAddress) => new Agent({ keepAlive: true, maxSockets: 4, localAddress }));
const statuses: Record<string, number> = {};
let sent = 0;
let inFlight = 0;
/** Open loop: a flood does not wait for answers, but its in-flight requests are bounded so the client itself stays fast. */
const MAX_IN_FLIGHT = 256;

function send(): Promise<void> {
  const agent = agents[sent % agents.length]!;
  const key = `ibx_${(sent % 1e12).toString().padStart(12, '0')}_${'A'.repeat(43)}`;
  sent += 1;
  inFlight += 1;
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port: Number(port), path: '/v2/models/mlp', agent, headers: { authorization: `Bearer ${key}` } }, (res) => {
      res.resume();
      res.on('end', () => {
        statuses[String(res.statusCode)] = (statuses[String(res.statusCode)] ?? 0) + 1;
        inFlight -= 1;
        resolve();
      });
    });
    req.on('error', () => {
      statuses.error = (statuses.error ?? 0) + 1;
      inFlight -= 1;
      resolve();
    });
    req.end();
  });
}

const started = performance.now();
const until = started + seconds * 1000;
if (rate > 0) {
  // Every 5 ms, send what the rate owes since the start.
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const now = performance.now();
      if (now >= until) {
        clearInterval(timer);
        resolve();
        return;
      }
      const owed = Math.floor(((now - started) / 1000) * rate) - sent;
      for (let i = 0; i < owed && inFlight < MAX_IN_FLIGHT; i++) void send();
    }, 5);
  });
} else {
  const loop = async () => { while (performance.now() < until) await send(); };
  await Promise.all(Array.from({ length: Math.min(64, 4 * count) }, loop));
}
const elapsed = (performance.now() - started) / 1000;
for (const agent of agents) agent.destroy();
console.log(JSON.stringify({ sent, rps: Math.round(sent / elapsed), statuses }));
