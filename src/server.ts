import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import { expressMiddleware } from '@as-integrations/express5';
import express, { type ErrorRequestHandler, type Request } from 'express';
import type { GraphQLSchema } from 'graphql';
import { bearerToken, createTokenVerifier } from './auth/tokens';
import type { Principal } from './auth/principal';
import { RequestContext, type AppServices } from './context';
import { AppError, asDatabaseFailure, DATABASE_FAILURE_MESSAGES, databaseFailure, databaseFailurePlugin, formatError } from './errors';
import { requestGuardPlugin } from './input-guard';
import { LIMITS } from './query-limits';
import type { Metrics } from './metrics';
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

/** Counts, times and labels each operation, and reports its SQL statement count when enabled. */
function observabilityPlugin(app: AppServices, metrics: Metrics): ApolloServerPlugin<RequestContext> {
  return {
    async requestDidStart() {
      const started = process.hrtime.bigint();
      return {
        async willSendResponse({ contextValue, operationName, operation, response, errors }) {
          const name = operationName ?? 'anonymous';
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

/** Builds the request context: who asks (from the bearer token), and their copy of the user. */
function contextBuilder(app: AppServices) {
  const verify = createTokenVerifier(app.config);
  return async ({ req }: { req: Request }): Promise<RequestContext> => {
    const request = {
      requestId: req.header('x-request-id')?.slice(0, 100) || randomUUID(),
      ip: req.ip ?? null,
      userAgent: req.header('user-agent')?.slice(0, 500) ?? null,
    };
    // Every statement of the request, authentication included, goes through this handle.
    const db = app.db.forRequest();
    let principal: Principal | null = null;
    let authError: AppError | null = null;
    try {
      const token = bearerToken(req.header('authorization'));
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
  // An ETag hashes every answer (63 KB for a dashboard) for caches that never see a POST.
  expressApp.set('etag', false);
  expressApp.set('trust proxy', 'loopback, linklocal, uniquelocal');
  const server = http.createServer(expressApp);

  const apollo = new ApolloServer<RequestContext>({
    schema,
    logger,
    introspection: config.introspection,
    includeStacktraceInErrorResponses: false,
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
  expressApp.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  const buildContext = contextBuilder(app);
  const guard = (route: string): express.RequestHandler => (req, res, next) => {
    res.on('finish', () => metrics.httpRequests.inc({ route, status: String(res.statusCode) }));
    // Only the router may reach the subgraph when ROUTER_SECRET is set.
    if (config.env.ROUTER_SECRET && req.header('router-authorization') !== config.env.ROUTER_SECRET) {
      res.status(401).json(jsonError('UNAUTHENTICATED', 'Requests must come through the router'));
      return;
    }
    next();
  };

  // A context the database could not build (authentication reads it): a clean 503, not Apollo's 500.
  const context = (args: { req: Request }) => buildContext(args).catch((error: unknown) => Promise.reject(asDatabaseFailure(error)));
  expressApp.use('/graphql', guard('/graphql'), express.json({ limit: '1mb' }), expressMiddleware(apollo, { context }));

  expressApp.get('/audit/export', guard('/audit/export'), async (req, res, next) => {
    try {
      await exportAuditEvents(await buildContext({ req }), req, res);
    } catch (error) {
      next(error);
    }
  });

  // Errors outside GraphQL (a body too large, malformed JSON) answer in GraphQL's shape, never with a stack.
  const onError: ErrorRequestHandler = (error, _req, res, next) => {
    if (res.headersSent) return next(error);
    const status = typeof error?.status === 'number' ? error.status : 500;
    if (status === 413) return res.status(413).json(jsonError('BAD_USER_INPUT', 'The request body is larger than 1 MB'));
    if (status >= 400 && status < 500) return res.status(status).json(jsonError('BAD_USER_INPUT', 'The request body is not valid JSON'));
    const failure = databaseFailure(error);
    if (failure) {
      logger.warn({ err: error, reason: failure }, 'the database could not serve an HTTP request');
      return res.status(503).set('retry-after', '1').json({ errors: [{ message: DATABASE_FAILURE_MESSAGES[failure], extensions: { code: 'INTERNAL_SERVER_ERROR', reason: failure } }] });
    }
    logger.error({ err: error }, 'unhandled HTTP error');
    return res.status(500).json(jsonError('INTERNAL_SERVER_ERROR', 'Internal server error'));
  };
  expressApp.use(onError);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.env.PORT, resolve);
  });

  return {
    server,
    apollo,
    close: () => apollo.stop(),
  };
}
