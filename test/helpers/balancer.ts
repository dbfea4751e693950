/**
 * A load balancer on loopback for tests that run several instances: one public URL (the instances' BASE_URL, as
 * behind a real one), each request passed as it is to the instance the test names (`route`), so a test chooses
 * which instance answers each step of a flow.
 */
import { createServer, request as forward, type Server } from 'node:http';
import { freePort } from './postgres.ts';

export interface Balancer {
  /** The public URL: every instance's BASE_URL. */
  url: string;
  /** Sends the following requests to the instance listening at `target` (its own URL). */
  route(target: string): void;
  close(): Promise<void>;
}

export async function startBalancer(): Promise<Balancer> {
  let target: URL | undefined;
  const server: Server = createServer((req, res) => {
    if (!target) {
      res.writeHead(502).end('no instance chosen');
      return;
    }
    const upstream = forward({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}`,
    route(url) {
      target = new URL(url);
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
