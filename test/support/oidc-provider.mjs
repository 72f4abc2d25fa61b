/* global process */
// A real OpenID provider (the `oidc-provider` package, certified by the OpenID Foundation) on
// localhost, in a process of its own: the package is ESM only and the suite runs as CommonJS.
// Started by test/support/oidc.ts; tells its issuer through the IPC channel.
import http from 'node:http';
import Provider from 'oidc-provider';

const server = http.createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;
const provider = new Provider(issuer, {
  cookies: { keys: ['test-cookie-key'] },
  clients: [
    {
      client_id: process.env.OIDC_CLIENT_ID ?? 'accounts',
      client_secret: process.env.OIDC_CLIENT_SECRET ?? 'accounts-secret',
      redirect_uris: [process.env.OIDC_REDIRECT_URI ?? 'http://localhost:3000/sso/oidc/callback'],
    },
  ],
});
server.on('request', provider.callback());
process.send({ issuer });
process.on('disconnect', () => server.close(() => process.exit(0)));
