import type { ApolloServerPlugin } from '@apollo/server';
import type { Express, Response } from 'express';

/**
 * GraphiQL at /graphiql, entirely from node_modules: @graphql-yoga/render-graphiql ships
 * GraphiQL, React and Monaco (with its workers) bundled as strings, which this serves as files
 * of its own. Nothing comes from a CDN, so it works offline, where Apollo Sandbox (loaded from
 * Apollo's CDN) is blank. The page links only to these same-origin paths.
 */
export const GRAPHIQL_PATH = '/graphiql';

interface Bundle {
  js: string;
  css: string;
  favicon: string;
  editorWorkerService: string;
  jsonWorker: string;
  graphqlWorker: string;
}

// 6 MB of strings: read on the first visit, not at every start.
let bundle: Bundle | undefined;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const load = (): Bundle => (bundle ??= require('@graphql-yoga/render-graphiql/graphiql') as Bundle);
// eslint-disable-next-line @typescript-eslint/no-require-imports
const VERSION = (require('@graphql-yoga/render-graphiql/package.json') as { version: string }).version;

const DEFAULT_QUERY = `# Add a token in Headers below: bin/token ada@example.com --name "Ada Lovelace"
query Dashboard {
  viewer {
    personalOrganization { id name }
    memberships(first: 20) {
      nodes { role organization { id name viewerPermissions } }
    }
  }
}
`;

/** The bootstrap: the workers by URL, then GraphiQL on /graphql (POST, which CSRF prevention lets through). */
const START = `self.MonacoEnvironment = {
  globalAPI: false,
  getWorkerUrl: function (_moduleId, label) {
    var files = { editorWorkerService: 'editor', json: 'json', graphql: 'graphql' };
    return '${GRAPHIQL_PATH}/${VERSION}/' + (files[label] || 'editor') + '.worker.js';
  },
};
YogaGraphiQL.renderYogaGraphiQL(document.querySelector('#root'), {
  title: 'Organizations subgraph',
  endpoint: '/graphql',
  method: 'POST',
  defaultQuery: ${JSON.stringify(DEFAULT_QUERY)},
  defaultHeaders: ${JSON.stringify(JSON.stringify({ Authorization: 'Bearer <the output of bin/token ada@example.com>' }, null, 2))},
});
`;

const PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>GraphiQL · Organizations subgraph</title>
    <link rel="icon" href="${GRAPHIQL_PATH}/${VERSION}/favicon.ico" />
    <link rel="stylesheet" href="${GRAPHIQL_PATH}/${VERSION}/graphiql.css" />
  </head>
  <body class="no-focus-outline">
    <noscript>GraphiQL needs JavaScript.</noscript>
    <div id="root" style="height: 100vh"></div>
    <script src="${GRAPHIQL_PATH}/${VERSION}/graphiql.js"></script>
    <script src="${GRAPHIQL_PATH}/${VERSION}/start.js"></script>
  </body>
</html>
`;

/** Versioned paths never change: cached for a year; the page itself not at all. */
const send = (res: Response, type: string, body: string | Buffer) => res.type(type).set('cache-control', 'public, max-age=31536000, immutable').send(body);

const ASSETS: Record<string, (res: Response) => unknown> = {
  'graphiql.js': (res) => send(res, 'text/javascript', load().js),
  'graphiql.css': (res) => send(res, 'text/css', load().css),
  'start.js': (res) => send(res, 'text/javascript', START),
  'editor.worker.js': (res) => send(res, 'text/javascript', load().editorWorkerService),
  'json.worker.js': (res) => send(res, 'text/javascript', load().jsonWorker),
  'graphql.worker.js': (res) => send(res, 'text/javascript', load().graphqlWorker),
  'favicon.ico': (res) => send(res, 'image/x-icon', Buffer.from(load().favicon.replace(/^data:[^,]*;base64,/, ''), 'base64')),
};

export function serveGraphiql(app: Express): void {
  app.get(GRAPHIQL_PATH, (_req, res) => {
    res.type('html').set('cache-control', 'no-cache').send(PAGE);
  });
  app.get(`${GRAPHIQL_PATH}/:version/:file`, (req, res, next) => {
    const asset = req.params.version === VERSION ? ASSETS[req.params.file] : undefined;
    if (asset) asset(res);
    else next();
  });
}

/** Apollo's landing page (Sandbox, from Apollo's CDN) with a corner link to the local GraphiQL, which works offline. */
export function withGraphiqlLink(plugin: ApolloServerPlugin): ApolloServerPlugin {
  const link = `<a href="${GRAPHIQL_PATH}" id="local-graphiql">Offline? Local GraphiQL at ${GRAPHIQL_PATH}</a>`;
  const css = '#local-graphiql{position:fixed;right:16px;bottom:16px;z-index:10000;padding:8px 12px;border-radius:6px;background:#1f2937;color:#fff;font:14px system-ui,sans-serif;text-decoration:none}';
  return {
    ...plugin,
    async serverWillStart(service) {
      const listener = await plugin.serverWillStart?.(service);
      if (!listener?.renderLandingPage) return listener;
      const render = listener.renderLandingPage.bind(listener);
      return {
        ...listener,
        async renderLandingPage() {
          const page = await render();
          const html = typeof page.html === 'string' ? page.html : await page.html();
          // The page's Content-Security-Policy admits styles carrying its nonce only.
          const nonce = /nonce="([^"]+)"/.exec(html)?.[1];
          const addition = `<style${nonce ? ` nonce="${nonce}"` : ''}>${css}</style>${link}`;
          return { html: html.includes('</body>') ? html.replace('</body>', `${addition}</body>`) : `${html}${addition}` };
        },
      };
    },
  };
}
