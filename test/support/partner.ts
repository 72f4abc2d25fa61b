import { spawn } from 'node:child_process';
import readline from 'node:readline';
import { ROOT } from './servers';

export interface Partner {
  url: string;
  /** `POST /workspaces/<id>/sandboxes` with the token: the partner's status and answer. */
  createSandbox(workspaceId: string, token: string): Promise<{ status: number; body: Record<string, any> }>;
  stop(): Promise<void>;
}

/**
 * examples/partner-offline-check.ts (or `script`, examples/partner-authorize.ts) as a user runs it, in a process of its own (it loads jose,
 * an ES module Jest cannot), checking tokens against the JWKS of the server at `organizationsUrl`.
 */
export async function startPartner(organizationsUrl: string, env: Record<string, string> = {}, script = 'examples/partner-offline-check.ts'): Promise<Partner> {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', script], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, ORGANIZATIONS_URL: organizationsUrl, PARTNER_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      const ready = /ready at (\S+)/.exec(line)?.[1];
      if (ready) resolve(ready);
    });
    child.once('exit', (code) => reject(new Error(`the partner example exited with ${code} before it was ready`)));
  });
  return {
    url,
    async createSandbox(workspaceId, token) {
      const res = await fetch(`${url}/workspaces/${workspaceId}/sandboxes`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
      return { status: res.status, body: (await res.json()) as Record<string, any> };
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
