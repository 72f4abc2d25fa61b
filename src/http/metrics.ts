import http, { type ServerResponse } from 'node:http';
import express, { type RequestHandler } from 'express';
import { Gauge } from 'prom-client';
import { isSecret } from '../common/secrets';
import { AppError } from '../errors';
import type { Logger } from '../logger';
import type { Metrics } from '../metrics';
import type { OperationGate } from '../operation-gate';
import { httpErrorHandler } from './failure';
import { pathOf } from './request-info';

/** The `route` label of http_requests_total: one of ours or `other` (paths come from clients: unbounded, they would grow the series forever). */
const ROUTES = ['/graphql', '/audit/export', '/health/live', '/health/ready', '/metrics', '/.well-known/jwks.json'];

/** Counts the response in http_requests_total once it is sent, by route and status. */
export function countResponse(metrics: Metrics, path: string, res: ServerResponse): void {
  const route = ROUTES.find((r) => path === r || path.startsWith(`${r}/`)) ?? 'other';
  res.once('finish', () => metrics.httpRequests.inc({ route, status: String(res.statusCode) }));
}

/** graphql_operations_waiting: operations waiting for their turn, read at each scrape. */
export function countWaiting(metrics: Metrics, gate: OperationGate): void {
  new Gauge({
    name: 'graphql_operations_waiting',
    help: 'GraphQL operations waiting for their turn (GRAPHQL_CONCURRENCY)',
    registers: [metrics.registry],
    collect() {
      this.set(gate.waiting);
    },
  });
}

/** GET /metrics for whom config.metrics admits: with METRICS_TOKEN, only its bearers (compared in constant time). */
export function metricsHandler(metrics: Metrics, token: string | undefined): RequestHandler {
  return async (req, res) => {
    if (token !== undefined) {
      const given = /^Bearer\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '')?.[1];
      if (!isSecret(given, token)) {
        res.set('www-authenticate', 'Bearer');
        throw new AppError('UNAUTHENTICATED', 'GET /metrics needs Authorization: Bearer <METRICS_TOKEN>');
      }
    }
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  };
}

/** METRICS_PORT: GET /metrics alone, on a listener of its own (not yet listening). */
export function metricsListener(metrics: Metrics, serve: RequestHandler, logger: Logger): http.Server {
  const app = express();
  app.disable('x-powered-by');
  app.get('/metrics', serve);
  app.use(() => {
    throw new AppError('NOT_FOUND', 'Only GET /metrics is served here');
  });
  app.use(httpErrorHandler(logger));
  return http.createServer((req, res) => {
    countResponse(metrics, pathOf(req), res);
    app(req, res);
  });
}
