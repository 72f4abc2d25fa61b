import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginInlineTraceDisabled,
  ApolloServerPluginLandingPageDisabled,
} from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import express from 'express';
import type { GraphQLSchema } from 'graphql';
import { bearerToken, createTokenVerifier } from './auth/tokens';
import type { Principal } from './auth/principal';
import { isSecret } from './common/secrets';
import { RequestContext, type AppServices } from './context';
import { AppError, asDatabaseFailure, databaseFailurePlugin, formatError } from './errors';
import { httpErrorHandler, sendHttpFailure } from './http/failure';
import { executeGraphql } from './http/graphql-endpoint';
import { serveGraphiql, withGraphiqlLink } from './http/graphiql';
import { jwksHandler } from './http/jwks';
import { countResponse, countWaiting, metricsHandler, metricsListener } from './http/metrics';
import { assignRequestId, pathOf, requestInfo, TRUSTED_PROXIES } from './http/request-info';
import { requestGuardPlugin } from './input-guard';
import { LIMITS } from './query-limits';
import type { Metrics } from './metrics';
import { OperationGate } from './operation-gate';
import { API_KEY_PREFIX, authenticateApiKey } from './modules/api-key/api-key.service';
import { exportAuditEvents } from './modules/audit/audit.export';
import { scimRouter } from './modules/directory/scim/scim.router';
import { ensureUser } from './modules/user/user.service';

export interface HttpServer {
  server: http.Server;
  apollo: ApolloServer<RequestContext>;
  /** Stop accepting, finish what is in flight. */
  close(): Promise<void>;
}

/** Counts, times and labels each operation, and reports its SQL statement count when enabled. */
function observabilityPlugin(app: AppServices, metrics: Metrics): ApolloServerPlugin<RequestContext> {
  return {
    async requestDidStart() {
      const started = process.hrtime.bigint();
      return {
        async willSendResponse({ contextValue, operationName, operation, response, errors }) {
          const name = metrics.operationLabel(operationName, !errors?.length);
          const seconds = Number(process.hrtime.bigint() - started) / 1e9;
          metrics.operations.observe({ operation: name, type: operation?.operation ?? 'unknown', outcome: errors?.length ? 'error' : 'ok' }, seconds);
          // Absent when the context could not be built.
          if (contextValue?.db) {
            const { statements } = contextValue.db.tally;
            metrics.sqlStatements.observe({ operation: name }, statements);
            if (app.config.exposeSqlCount) response.http.headers.set('x-sql-statements', String(statements));
          }
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

/** Builds the request context: who asks (from the bearer token), and their copy of the user. */
function contextBuilder(app: AppServices) {
  const verify = createTokenVerifier(app.config);
  return async (req: IncomingMessage, res: ServerResponse): Promise<RequestContext> => {
    const request = requestInfo(req, res);
    // Every statement of the request, authentication included, goes through this handle.
    const db = app.db.forRequest();
    let principal: Principal | null = null;
    let authError: AppError | null = null;
    try {
      const token = bearerToken(req.headers.authorization);
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

export async function createHttpServer(app: AppServices, schema: GraphQLSchema, metrics: Metrics): Promise<HttpServer> {
  const { config, logger } = app;
  const expressApp = express();
  expressApp.disable('x-powered-by');
  // No ETags: they would hash every answer Express sends (a SCIM page) for caches that never see them.
  expressApp.set('etag', false);
  // X-Forwarded-Proto (SCIM's base URL: req.protocol) counts only through loopback and private
  // proxies, as X-Forwarded-For does for the audit log's address (http/request-info.ts).
  expressApp.set('trust proxy', TRUSTED_PROXIES);
  // Its request handler is set once Apollo has started (below).
  const server = http.createServer();
  const serveMetrics = metricsHandler(metrics, config.metrics.token);
  // METRICS_PORT: /metrics alone, on its own listener (loopback unless METRICS_HOST says otherwise).
  const metricsServer = config.metrics.port ? metricsListener(metrics, serveMetrics, logger) : undefined;

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
      config.isProduction
        ? ApolloServerPluginLandingPageDisabled()
        : config.graphiql
          ? withGraphiqlLink(ApolloServerPluginLandingPageLocalDefault({ embed: true }))
          : ApolloServerPluginLandingPageLocalDefault({ embed: true }),
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
  if (config.graphiql) serveGraphiql(expressApp);
  // Public: partner services verify organization tokens with it, router or not.
  expressApp.get('/.well-known/jwks.json', jwksHandler(app));
  if (config.metrics.onMainPort) expressApp.get('/metrics', serveMetrics);
  else if (!metricsServer) logger.info('GET /metrics is off in production: set METRICS_TOKEN (scrape with Authorization: Bearer <token>) or METRICS_PORT (a listener on METRICS_HOST, default 127.0.0.1)');

  // With ROUTER_SECRET, only the router reaches the subgraph (and its audit export).
  const assertFromRouter = (req: IncomingMessage) => {
    if (config.env.ROUTER_SECRET && !isSecret(req.headers['router-authorization'] as string | undefined, config.env.ROUTER_SECRET)) {
      throw new AppError('UNAUTHENTICATED', 'Requests must come through the router');
    }
  };
  const gate = new OperationGate(config.graphqlConcurrency, config.env.DATABASE_POOL_TIMEOUT_MS);
  countWaiting(metrics, gate);
  const buildContext = contextBuilder(app);
  // A context the database could not build (authentication reads it): a clean 503, not Apollo's 500.
  const context = (req: IncomingMessage, res: ServerResponse) => buildContext(req, res).catch((error: unknown) => Promise.reject(asDatabaseFailure(error)));
  const execute = executeGraphql(apollo, context);
  const jsonBody = express.json({ limit: '1mb' });
  const serveGraphql = (req: IncomingMessage, res: ServerResponse) => {
    const fail = (error: unknown) => sendHttpFailure(res, error, logger);
    try {
      assertFromRouter(req);
    } catch (error) {
      return fail(error);
    }
    // The body is read before the turn is taken: a client sending it slowly holds no turn meanwhile.
    jsonBody(req, res, (error?: unknown) => (error ? fail(error) : gate.run(req, () => execute(req, res)).catch(fail)));
  };
  expressApp.get(
    '/audit/export',
    (req, _res, next) => {
      assertFromRouter(req);
      next();
    },
    gate.inTurn(async (req, res) => exportAuditEvents(await buildContext(req, res), req, res)),
  );
  // SCIM 2.0 for the organizations' directories (Okta, Entra): reached by them directly, not
  // through the router (no router lock), each request authenticated by its directory token; its
  // errors in SCIM's shape (its own error handler).
  expressApp.use('/scim/v2', scimRouter(app, (handler) => gate.inTurn(handler), logger));
  // Errors of the routes above (the export's lock and turn, the export, /metrics), in GraphQL's shape, as /graphql's (sendHttpFailure).
  expressApp.use(httpErrorHandler(logger));

  // Every request gets its id and is counted; /graphql goes straight to Apollo (src/http/graphql-endpoint.ts), the rest to Express.
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    try {
      assignRequestId(req, res);
      const path = pathOf(req);
      countResponse(metrics, path, res);
      if (path === '/graphql' || path.startsWith('/graphql/')) serveGraphql(req, res);
      else expressApp(req, res);
    } catch (error) {
      // What Express would have caught: an answer, not a process brought down.
      sendHttpFailure(res, error, logger);
    }
  });

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
