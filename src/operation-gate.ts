import type { IncomingMessage } from 'node:http';
import type { RequestHandler } from 'express';
import { databaseFailureError } from './errors';

/**
 * At most `limit` operations (GraphQL requests and audit exports) run at once in this process
 * (by default as many as the pool has connections); the others wait their turn in order, each
 * at most `timeoutMs`, holding nothing but their request. Past the pool, operations would wait
 * for a connection halfway through, holding their rows, loaders and half-built answers, and
 * V8's young-generation collector then fell into copying and promoting most of every request
 * (README, "Scaling past one machine").
 */
export class OperationGate {
  private running = 0;
  private readonly queue: { admit: () => void }[] = [];

  constructor(
    readonly limit: number,
    private readonly timeoutMs: number,
  ) {}

  /** True once the operation may run (then `leave()` when it is done); false when it waited `timeoutMs` in vain. */
  enter(): Promise<boolean> {
    if (this.running < this.limit) {
      this.running += 1;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const turn = {
        admit: () => {
          clearTimeout(timer);
          resolve(true);
        },
      };
      const timer = setTimeout(() => {
        const at = this.queue.indexOf(turn);
        if (at >= 0) this.queue.splice(at, 1);
        resolve(false);
      }, this.timeoutMs);
      this.queue.push(turn);
    });
  }

  /** Hands the slot to the next waiting operation, if any. */
  leave(): void {
    const next = this.queue.shift();
    if (next) next.admit();
    else this.running -= 1;
  }

  /**
   * `work` in a turn, resolved once it has finished (not when its client leaves: the operation
   * holds its connection until then). A request that waited in vain fails with DATABASE_BUSY;
   * one whose client left while it waited passes its turn on unserved.
   */
  async run(req: IncomingMessage, work: () => unknown): Promise<void> {
    if (!(await this.enter())) throw databaseFailureError('DATABASE_BUSY');
    try {
      if (!req.socket.destroyed) await work();
    } finally {
      this.leave();
    }
  }

  /** An Express handler in a turn (run). */
  inTurn(handler: RequestHandler): RequestHandler {
    return (req, res, next) => this.run(req, () => handler(req, res, next));
  }

  /** Operations waiting for their turn, for the metrics. */
  get waiting(): number {
    return this.queue.length;
  }
}
