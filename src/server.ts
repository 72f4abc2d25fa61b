import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { ApolloServer, HeaderMap, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginInlineTraceDisabled,
  ApolloServerPluginLandingPageDisabled,
} from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import express, { type ErrorRequestHandler } from 'express';
import type { GraphQLSchema } from 'graphql';
import proxyaddr from 'proxy-addr';
import { Gauge } from 'prom-client';
import { bearerToken, createTokenVerifier } from './auth/tokens';
import type { Principal } from './auth/principal';
import { RequestContext, type AppServices } from './context';
import { AppError, asDatabaseFailure, DATABASE_FAILURE_MESSAGES, databaseFailure, databaseFailurePlugin, formatError, type DatabaseFailure } from './errors';
import { requestGuardPlugin } from './input-guard';
import { LIMITS } from './query-limits';
import type { Metrics } from './metrics';
import { OperationGate } from './operation-gate';
import { API_KEY_PREFIX, authenticateApiKey } from './modules/api-key/api-key.service';
import { exportAuditEvents } from './modules/audit/audit.export';
import { ensureUser } from './modules/user/user.service';

export interface HttpServer {
  server: http.Server;
  apollo: ApolloServer<RequestContext>;
  /** Stop accepting, finish what is in flight. */
  close(): Promise<void>;
}

const jsonError = (code: string, message: string) => ({ errors: [{ message, extensions: { code } }] });

/** Whose X-Forwarded-For gives the client's address: loopback and private proxies only (Express's `trust proxy` as this server set it). */
const trustProxy = proxyaddr.compile(['loopback', 'linklocal', 'uniquelocal']);

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** 503 with Retry-After, in GraphQL's shape: what a request the database could not serve gets. */
function sendDatabaseFailure(res: ServerResponse, failure: DatabaseFailure): void {
  const body = { errors: [{ message: DATABASE_FAILURE_MESSAGES[failure], extensions: { code: 'INTERNAL_SERVER_ERROR', reason: failure } }] };
  sendJson(res, 503, body, { 'retry-after': '1' });
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, Object.assign({}, headers, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) }));
  res.end(text);
}

/** Counts, times and labels each operation, and reports its SQL statement count when enabled. */
function observabilityPlugin(app: AppServices, metrics: Metrics): ApolloServerPlugin<RequestContext> {
  return {
    async requestDidStart() {
      const started = process.hrtime.bigint();
      return {
        async willSendResponse({ contextValue, operationName, operation, response, errors }) {
          const name = metrics.operationLabel(operationName);
          const seconds = Number(process.hrtime.bigint() - started) / 1e9;
          metrics.operations.observe({ operation: name, type: operation?.operation ?? 'unknown', outcome: errors?.length ? 'error' : 'ok' }, seconds);
          // Absent when the context could not be built.
          if (contextValue?.db) {
            const { statements } = contextValue.db.tally;
            metrics.sqlStatements.observe({ operation: name }, statements);
            if (app.config.exposeSqlCount) response.http.headers.set('x-sql-statements', String(statements));
          }
          response.http.headers.set('x-request-id', contextValue.request.requestId);
        },
      };
    },
  };
}

/** "Did you mean …?" at the end of a graphql-js message: it names fields, arguments, types and enum values. */
const SUGGESTION = / ?Did you mean(.+?)\?$/;

/**
 * Suggestions off in variable errors too: `hideSchemaDetailsFromClientErrors` cleans validation
 * errors only, while graphql-js coerces variables inside execute() ("Field "nam" is not defined by
 * type "CreateOrganizationInput". Did you mean "name"?").
 */
function hideVariableSuggestionsPlugin(): ApolloServerPlugin<RequestContext> {
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors }) {
          for (const error of errors) error.message = error.message.replace(SUGGESTION, '');
        },
      };
    },
  };
}

const sha256 = (text: string) => createHash('sha256').update(text).digest();

/** GET /metrics for whom config.metrics admits: with METRICS_TOKEN, only its bearers (compared in constant time). */
function metricsHandler(metrics: Metrics, token: string | undefined, logger: AppServices['logger']) {
  const expected = token === undefined ? undefined : sha256(token);
  return (req: IncomingMessage, res: ServerResponse): void => {
    if (expected) {
      const given = /^Bearer\s+(\S+)\s*$/i.exec(header(req, 'authorization') ?? '')?.[1] ?? '';
      // Both sides hashed: equal lengths, so neither the comparison nor its length reveals the token.
      if (!timingSafeEqual(sha256(given), expected)) {
        return sendJson(res, 401, jsonError('UNAUTHENTICATED', 'GET /metrics needs Authorization: Bearer <METRICS_TOKEN>'), { 'www-authenticate': 'Bearer' });
      }
    }
    metrics.registry.metrics().then(
      (text) => {
        res.writeHead(200, { 'content-type': metrics.registry.contentType, 'content-length': Buffer.byteLength(text) });
        res.end(text);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'metrics could not be collected');
        sendJson(res, 500, jsonError('INTERNAL_SERVER_ERROR', 'Internal server error'));
      },
    );
  };
}

/** Builds the request context: who asks (from the bearer token), and their copy of the user. */
function contextBuilder(app: AppServices) {
  const verify = createTokenVerifier(app.config);
  return async ({ req }: { req: IncomingMessage }): Promise<RequestContext> => {
    const request = {
      requestId: header(req, 'x-request-id')?.slice(0, 100) || randomUUID(),
      ip: proxyaddr(req, trustProxy) ?? null,
      userAgent: header(req, 'user-agent')?.slice(0, 500) ?? null,
    };
    // Every statement of the request, authentication included, goes through this handle.
    const db = app.db.forRequest();
    let principal: Principal | null = null;
    let authError: AppError | null = null;
    try {
      const token = bearerToken(header(req, 'authorization'));
      if (token?.startsWith(API_KEY_PREFIX)) principal = await authenticateApiKey(db, token);
      else if (token) principal = await verify(token);
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      authError = error;
    }
    const ctx = new RequestContext(app, request, principal, authError, db);
    if (principal?.kind === 'user') await ensureUser(ctx, principal);
    return ctx;
  };
}

/** What Express's `app.use('/graphql')` matched: the path and anything under it, in any case. */
const isGraphqlPath = (url: string | undefined) => url !== undefined && /^\/graphql(\/|\?|$)/i.test(url);

/**
 * One GraphQL request, as @as-integrations/express5 ran it but on Node's own request and
 * response. Express re-prototypes both on every request (Object.setPrototypeOf): a trivial
 * operation allocated 144 KB instead of 125, and 23 KB of it outlived the young-generation
 * collections instead of 14 (a dashboard's server CPU: −3.5%).
 */
async function executeGraphql(
  apollo: ApolloServer<RequestContext>,
  req: IncomingMessage & { body?: unknown },
  res: ServerResponse,
  context: (args: { req: IncomingMessage }) => Promise<RequestContext>,
): Promise<void> {
  const headers = new HeaderMap();
  for (const [key, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
  }
  const query = req.url!.indexOf('?');
  const response = await apollo.executeHTTPGraphQLRequest({
    httpGraphQLRequest: { method: req.method!.toUpperCase(), headers, search: query < 0 ? '' : req.url!.slice(query), body: req.body },
    context: () => context({ req }),
  });
  for (const [key, value] of response.headers) res.setHeader(key, value);
  res.statusCode = response.status ?? 200;
  if (response.body.kind === 'complete') {
    res.setHeader('content-length', Buffer.byteLength(response.body.string));
    res.end(response.body.string);
    return;
  }
  for await (const chunk of response.body.asyncIterator) res.write(chunk);
  res.end();
}

export async function createHttpServer(app: AppServices, schema: GraphQLSchema, metrics: Metrics): Promise<HttpServer> {
  const { config, logger } = app;
  const expressApp = express();
  expressApp.disable('x-powered-by');
  // An ETag hashes every answer (63 KB for a dashboard) for caches that never see a POST.
  expressApp.set('etag', false);
  // /graphql is served on Node's own request and response (executeGraphql), everything else by Express.
  let graphql: (req: IncomingMessage, res: ServerResponse) => void = () => undefined;
  const server = http.createServer((req, res) => (isGraphqlPath(req.url) ? graphql(req, res) : expressApp(req, res)));
  const serveMetrics = metricsHandler(metrics, config.metrics.token, logger);
  // METRICS_PORT: /metrics alone, on its own listener (loopback unless METRICS_HOST says otherwise).
  const metricsServer = config.metrics.port
    ? http.createServer((req, res) => {
        if (req.method === 'GET' && /^\/metrics(\?|$)/.test(req.url ?? '')) return serveMetrics(req, res);
        sendJson(res, 404, jsonError('NOT_FOUND', 'Only GET /metrics is served here'));
      })
    : undefined;

  const apollo = new ApolloServer<RequestContext>({
    schema,
    logger,
    introspection: config.introspection,
    includeStacktraceInErrorResponses: false,
    // No "Did you mean …" naming the schema's fields, arguments, types and enum values.
    hideSchemaDetailsFromClientErrors: config.isProduction,
    csrfPrevention: true,
    parseOptions: { maxTokens: LIMITS.tokens },
    formatError: (formatted, error) =>
      formatError(formatted, error, (internal, failure) =>
        failure
          ? logger.warn({ err: internal, reason: failure }, 'the database could not serve a GraphQL request')
          : logger.error({ err: internal }, 'internal error in a GraphQL request'),
      ),
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer: server }),
      ...(metricsServer ? [ApolloServerPluginDrainHttpServer({ httpServer: metricsServer })] : []),
      ...(config.isProduction ? [hideVariableSuggestionsPlugin()] : []),
      // ftv1 traces (`apollo-federation-include-trace`) show resolver timings and paths: the router's only.
      ...(config.routerViews ? [] : [ApolloServerPluginInlineTraceDisabled()]),
      config.isProduction ? ApolloServerPluginLandingPageDisabled() : ApolloServerPluginLandingPageLocalDefault({ embed: true }),
      observabilityPlugin(app, metrics),
      requestGuardPlugin(),
      databaseFailurePlugin(),
      // No cache hints here (every answer is per viewer): spare every field its cache-control wrapper.
      ApolloServerPluginCacheControlDisabled(),
    ],
  });
  await apollo.start();

  expressApp.get('/health/live', (_req, res) => {
    res.json({ status: 'ok' });
  });
  expressApp.get('/health/ready', async (_req, res) => {
    try {
      await app.db.query('SELECT 1');
      res.json({ status: 'ok' });
    } catch {
      res.status(503).json({ status: 'unavailable', reason: 'the database does not answer' });
    }
  });
  if (config.metrics.onMainPort) expressApp.get('/metrics', serveMetrics);
  else if (!metricsServer) logger.info('GET /metrics is off in production: set METRICS_TOKEN (scrape with Authorization: Bearer <token>) or METRICS_PORT (a listener on METRICS_HOST, default 127.0.0.1)');

  const buildContext = contextBuilder(app);
  /** Counts the response; refuses (true) when ROUTER_SECRET is set and the request did not come through the router. */
  const refused = (route: string, req: IncomingMessage, res: ServerResponse): boolean => {
    res.on('finish', () => metrics.httpRequests.inc({ route, status: String(res.statusCode) }));
    if (!config.env.ROUTER_SECRET || header(req, 'router-authorization') === config.env.ROUTER_SECRET) return false;
    sendJson(res, 401, jsonError('UNAUTHENTICATED', 'Requests must come through the router'));
    return true;
  };
  const guard =
    (route: string): express.RequestHandler =>
    (req, res, next) => {
      if (!refused(route, req, res)) next();
    };

  // A context the database could not build (authentication reads it): a clean 503, not Apollo's 500.
  const context = (args: { req: IncomingMessage }) => buildContext(args).catch((error: unknown) => Promise.reject(asDatabaseFailure(error)));
  const parseJson = express.json({ limit: '1mb' });
  const gate = new OperationGate(config.graphqlConcurrency, config.env.DATABASE_POOL_TIMEOUT_MS);
  new Gauge({
    name: 'graphql_operations_waiting',
    help: 'GraphQL operations waiting for their turn (GRAPHQL_CONCURRENCY)',
    registers: [metrics.registry],
    collect() {
      this.set(gate.waiting);
    },
  });
  const run = (req: IncomingMessage, res: ServerResponse) =>
    void executeGraphql(apollo, req, res, context)
      .catch((failure: unknown) => sendFailure(failure, res))
      .finally(() => gate.leave());
  graphql = (req, res) => {
    if (refused('/graphql', req, res)) return;
    // The body first: a client sending it slowly must not hold a turn meanwhile.
    parseJson(req, res, (error?: unknown) => {
      if (error) return sendFailure(error, res);
      const admitted = gate.enter();
      if (admitted === true) return run(req, res);
      void admitted.then((turn) => {
        if (!turn) {
          logger.warn({ limit: gate.limit }, 'a GraphQL operation waited DATABASE_POOL_TIMEOUT_MS for its turn');
          return sendDatabaseFailure(res, 'DATABASE_BUSY');
        }
        // The client left while it waited: the turn passes on.
        if (req.socket.destroyed) return gate.leave();
        run(req, res);
      });
    });
  };

  expressApp.get('/audit/export', guard('/audit/export'), async (req, res, next) => {
    try {
      await exportAuditEvents(await buildContext({ req }), req, res);
    } catch (error) {
      next(error);
    }
  });

  // Errors outside GraphQL (a body too large, malformed JSON) answer in GraphQL's shape, never with a stack.
  const sendFailure = (error: unknown, res: ServerResponse): void => {
    if (res.headersSent) {
      logger.error({ err: error }, 'HTTP response failed after its headers were sent');
      res.destroy();
      return;
    }
    const status = (error as { status?: unknown } | null)?.status;
    if (status === 413) return sendJson(res, 413, jsonError('BAD_USER_INPUT', 'The request body is larger than 1 MB'));
    if (typeof status === 'number' && status >= 400 && status < 500) return sendJson(res, status, jsonError('BAD_USER_INPUT', 'The request body is not valid JSON'));
    const failure = databaseFailure(error);
    if (failure) {
      logger.warn({ err: error, reason: failure }, 'the database could not serve an HTTP request');
      return sendDatabaseFailure(res, failure);
    }
    logger.error({ err: error }, 'unhandled HTTP error');
    return sendJson(res, 500, jsonError('INTERNAL_SERVER_ERROR', 'Internal server error'));
  };
  // Four parameters: Express tells an error handler by its arity.
  const onError: ErrorRequestHandler = (error, _req, res, _next) => sendFailure(error, res);
  expressApp.use(onError);

  if (metricsServer) {
    await listen(metricsServer, config.metrics.port!, config.metrics.host);
    logger.info({ url: `http://${config.metrics.host}:${config.metrics.port}/metrics` }, 'metrics served on their own listener');
  }
  await listen(server, config.env.PORT);

  return {
    server,
    apollo,
    // Drains both listeners (ApolloServerPluginDrainHttpServer).
    close: () => apollo.stop(),
  };
}

function listen(server: http.Server, port: number, host?: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
}
