import fs from 'node:fs';

/**
 * One load, in its own process so that the load generator never shares a core's event loop
 * with a server (bench/run.ts starts it): autocannon, sending `body` (its `[<id>]` made unique
 * per request) with each bearer in turn. Several bearers let an operation be asked by many
 * people, as createOrganization is in life: from one token a creator would gather a thousand
 * organizations in a few seconds, and every walled statement reads its asker's organizations
 * (README, "Scaling past one machine"). Prints autocannon's result as JSON.
 *
 * node dist/bench/load.js <settings.json>  ({ url, body, bearers, connections, seconds })
 */
const settings = JSON.parse(fs.readFileSync(process.argv[2], 'utf8')) as { url: string; body: string; bearers: string[]; connections: number; seconds: number };
// autocannon ships no types; this is the one call made of it.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon = require('autocannon') as (options: object) => Promise<unknown>;
let next = 0;
const bearer = () => settings.bearers[next++ % settings.bearers.length];

void autocannon({
  url: settings.url,
  connections: settings.connections,
  duration: settings.seconds,
  method: 'POST',
  idReplacement: true,
  headers: { 'content-type': 'application/json' },
  body: settings.body,
  requests: [{ setupRequest: (request: { headers: Record<string, string> }) => ({ ...request, headers: { ...request.headers, authorization: `Bearer ${bearer()}` } }) }],
}).then((result) => process.stdout.write(JSON.stringify(result)));
