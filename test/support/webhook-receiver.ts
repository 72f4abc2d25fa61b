import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { waitFor } from './wait';

export interface Received {
  path: string;
  id: string;
  timestamp: string;
  signatures: string[];
  body: string;
  /** The body as the specification's library verified and parsed it. */
  payload: { type: string; timestamp: string; data: Record<string, any> };
}

/** How the receiver answers a path: a status (and headers), or never (until released). */
export type Behaviour = { status: number; headers?: Record<string, string>; body?: string } | 'hang';

/**
 * A webhook receiver on localhost, written as a user of Standard Webhooks would: every request is
 * verified with the `standardwebhooks` library under each secret it was told of for its path
 * (all must verify: during a rotation, the old and the new one). A request that fails to verify
 * is kept in `rejected`, and the test fails on it.
 */
export class WebhookReceiver {
  readonly received: Received[] = [];
  readonly rejected: string[] = [];
  private readonly secrets = new Map<string, string[]>();
  private readonly behaviours = new Map<string, Behaviour[]>();
  private readonly hanging = new Set<http.ServerResponse>();
  /** Requests that came before their path's secret was known (each waits once). */
  private readonly untrusted = new WeakSet<http.ServerResponse>();
  private server: http.Server | undefined;
  port = 0;

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => this.handle(req, res, Buffer.concat(chunks).toString('utf8')));
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    this.release();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server?.closeAllConnections();
    this.server = undefined;
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** The secrets a path's webhooks must verify under (each of them). */
  trust(path: string, ...secrets: string[]): void {
    this.secrets.set(path, secrets);
  }

  /** The next answers for a path, in order; the last one stays. Default: 200. */
  answer(path: string, ...behaviours: Behaviour[]): void {
    this.behaviours.set(path, behaviours);
  }

  /** Answers every hanging request with 200. */
  release(): void {
    for (const res of this.hanging) res.writeHead(200).end('late');
    this.hanging.clear();
  }

  at(path: string): Received[] {
    return this.received.filter((r) => r.path === path);
  }

  async waitFor(path: string, count: number, what = `${count} webhook(s) at ${path}`, timeout = 15_000): Promise<Received[]> {
    return waitFor(() => `${what} (got ${this.at(path).length}; rejected: ${this.rejected.join('; ')})`, () => this.at(path).length >= count && this.at(path), { timeout });
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse, body: string): void {
    const path = req.url ?? '/';
    // An endpoint's first webhook (its own creation, when it takes every type) may arrive before
    // the test has read the secret off the creating mutation's answer: it waits for `trust`.
    if (!this.secrets.has(path) && !this.untrusted.has(res)) {
      this.untrusted.add(res);
      void waitFor(`a secret for ${path}`, () => this.secrets.has(path), { timeout: 10_000 })
        .catch(() => undefined)
        .then(() => this.handle(req, res, body));
      return;
    }
    const headers = req.headers as Record<string, string>;
    try {
      let payload: Received['payload'] | undefined;
      const secrets = this.secrets.get(path) ?? [];
      if (!secrets.length) throw new Error(`no secret for ${path}`);
      for (const secret of secrets) payload = new Webhook(secret).verify(body, headers) as Received['payload'];
      this.received.push({ path, id: headers['webhook-id'], timestamp: headers['webhook-timestamp'], signatures: headers['webhook-signature'].split(' '), body, payload: payload! });
    } catch (error) {
      this.rejected.push(`${path}: ${(error as Error).message}`);
      res.writeHead(400).end('unverified');
      return;
    }
    const queue = this.behaviours.get(path) ?? [];
    const behaviour = queue.length > 1 ? queue.shift()! : (queue[0] ?? { status: 200 });
    if (behaviour === 'hang') {
      this.hanging.add(res);
      return;
    }
    res.writeHead(behaviour.status, behaviour.headers).end(behaviour.body ?? 'ok');
  }
}
