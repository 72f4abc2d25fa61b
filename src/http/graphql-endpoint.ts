import type { IncomingMessage, ServerResponse } from 'node:http';
import { HeaderMap, type ApolloServer, type BaseContext } from '@apollo/server';

/** A request whose JSON body was read (body-parser's `json`). */
type JsonRequest = IncomingMessage & { body?: unknown };

/**
 * Hands a request to Apollo Server and writes its answer, on node:http as Apollo's own standalone
 * server does (@apollo/server/standalone) and as its Express integration does inside Express.
 * /graphql skips Express (src/server.ts): Express gives each request and response object a new
 * prototype and walks its router, and side by side (two builds on one database, alternating
 * rounds, server CPU per request, three runs against two servers of the old build) that cost
 * `{ __typename }` 0.19–0.31 ms a request (half its CPU), the members page 18–22% more, AuditDeep
 * 3–22%, `_entities` 9–20%, the dashboard 7–25%.
 */
export function executeGraphql<C extends BaseContext>(apollo: ApolloServer<C>, context: (req: IncomingMessage, res: ServerResponse) => Promise<C>) {
  return async (req: JsonRequest, res: ServerResponse): Promise<void> => {
    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
    }
    const url = req.url ?? '';
    const query = url.indexOf('?');
    const answer = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: (req.method ?? 'GET').toUpperCase(), headers, search: query < 0 ? '' : url.slice(query), body: req.body },
      context: () => context(req, res),
    });
    for (const [key, value] of answer.headers) res.setHeader(key, value);
    res.statusCode = answer.status ?? 200;
    if (answer.body.kind === 'complete') {
      res.end(answer.body.string);
      return;
    }
    for await (const chunk of answer.body.asyncIterator) res.write(chunk);
    res.end();
  };
}
