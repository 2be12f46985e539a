/**
 * A small round-robin HTTP proxy on loopback, standing in for the load balancer of App Service or
 * Container Apps in front of several bot instances: request i goes to instance i mod N. An
 * instance that refuses the connection (stopped, killed) is skipped and the request goes to the
 * next one, as a load balancer takes a dead instance out of rotation; nothing else is retried
 * (a request that reached an instance is never sent twice).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ProxiedRequest {
  method: string;
  path: string;
  /** Index of the instance that answered, or null when none could be reached. */
  upstream: number | null;
  status: number | null;
}

export interface RoundRobinProxy {
  url: string;
  /** Every request, in arrival order. */
  readonly log: ProxiedRequest[];
  /** Replaces the instances (e.g. after a restart on new ports). */
  setUpstreams(urls: readonly string[]): void;
  close(): Promise<void>;
}

/** The request cannot have reached an instance: nothing listens, or a kept-alive socket was already dead. */
function neverReached(error: unknown, reusedSocket: boolean): boolean {
  const code = (error as { code?: string } | null)?.code;
  return code === 'ECONNREFUSED' || (reusedSocket && (code === 'ECONNRESET' || code === 'EPIPE'));
}

export async function startRoundRobinProxy(upstreams: readonly string[]): Promise<RoundRobinProxy> {
  let targets = [...upstreams];
  let next = 0;
  const log: ProxiedRequest[] = [];
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const entry: ProxiedRequest = { method: req.method ?? 'GET', path: req.url ?? '/', upstream: null, status: null };
      log.push(entry);
      const first = next++;
      const attempt = (tries: number): void => {
        if (tries >= targets.length) {
          entry.status = 502;
          res.writeHead(502, { 'content-type': 'text/plain' });
          res.end('no instance answered');
          return;
        }
        const index = (first + tries) % targets.length;
        const target = new URL(req.url ?? '/', targets[index]);
        let answered = false;
        const forward = http.request(
          target,
          { method: req.method, headers: { ...req.headers, host: target.host, 'content-length': String(body.length) }, agent },
          (upstream) => {
            answered = true;
            entry.upstream = index;
            entry.status = upstream.statusCode ?? null;
            res.writeHead(upstream.statusCode ?? 502, upstream.headers);
            upstream.pipe(res);
          },
        );
        forward.on('error', (error) => {
          // Not answered and never reached: the next instance takes it.
          if (!answered && neverReached(error, forward.reusedSocket)) {
            attempt(tries + 1);
            return;
          }
          if (!res.headersSent) {
            entry.status = 502;
            res.writeHead(502, { 'content-type': 'text/plain' });
          }
          res.end();
        });
        forward.end(body);
      };
      attempt(0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    log,
    setUpstreams: (urls) => {
      targets = [...urls];
    },
    close: () =>
      new Promise<void>((resolve) => {
        agent.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
