import { spawn } from 'node:child_process';
import path from 'node:path';

export interface OidcProvider {
  /** e.g. http://127.0.0.1:41234: what its discovery document names. */
  issuer: string;
  stop(): Promise<void>;
}

/** A real OpenID provider on localhost (test/support/oidc-provider.mjs), once it listens. */
export async function startOidcProvider(env: Record<string, string> = {}): Promise<OidcProvider> {
  const child = spawn(process.execPath, [path.join(__dirname, 'oidc-provider.mjs')], {
    env: { PATH: process.env.PATH, NODE_ENV: 'test', ...env },
    // Its development-mode warnings (in-memory adapter, generated keys) are what a test provider is.
    stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const issuer = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the OpenID provider did not start within 30 s')), 30_000);
    child.once('message', (message: { issuer: string }) => {
      clearTimeout(timer);
      resolve(message.issuer);
    });
    void exited.then(() => reject(new Error(`the OpenID provider exited (${child.exitCode})`)));
  });
  return {
    issuer,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
