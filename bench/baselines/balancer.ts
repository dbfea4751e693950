/**
 * A round-robin HTTP load balancer for the two-instance scenario: each request passed as it is to the next of the
 * UPSTREAMS (comma-separated origins), over kept-alive connections, the answer streamed back. The same balancer
 * stands in front of one instance and in front of two, so what it costs is in both variants. Loopback only.
 *
 * Settings: PORT, UPSTREAMS.
 */
import { Agent, createServer, request } from 'node:http';

const port = Number(process.env.PORT ?? 0);
const upstreams = (process.env.UPSTREAMS ?? '')
  .split(',')
  .filter(Boolean)
  .map((u) => new URL(u));
if (upstreams.length === 0) throw new Error('UPSTREAMS must name at least one origin');
const agent = new Agent({ keepAlive: true, maxSockets: 64 });
let next = 0;

createServer((req, res) => {
  const target = upstreams[next++ % upstreams.length]!;
  const upstream = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers, agent }, (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(res);
  });
  upstream.on('error', () => {
    if (!res.headersSent) res.writeHead(502);
    res.end();
  });
  req.pipe(upstream);
}).listen(port, '127.0.0.1');
