/** The ceiling of any Node HTTP server here: read the body, answer a fixed response. Prints its port. */
import { createServer } from 'node:http';

const answer = Buffer.from(JSON.stringify({ outputs: [{ name: 'y', datatype: 'FP32', shape: [1, 2], data: [0.5, 0.5] }] }));
const server = createServer((req, res) => {
  req.on('data', () => undefined);
  req.on('end', () => res.writeHead(200, { 'content-type': 'application/json', 'content-length': answer.length }).end(answer));
});
server.listen(0, '127.0.0.1', () => console.log(`PORT ${(server.address() as { port: number }).port}`));
