import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from './support/servers';

/** Where this file's catalogs are written; removed when its tests are done. */
let folder: string;
beforeAll(() => {
  folder = fs.mkdtempSync(path.join(os.tmpdir(), 'catalog-'));
});
afterAll(() => fs.rmSync(folder, { recursive: true, force: true }));

/** The server as users start it, with a catalog file: what it prints and how it exits. */
function start(catalog: string | undefined, extension = 'yaml', program = ['src/main.ts']) {
  const env: Record<string, string> = { PATH: process.env.PATH!, DATABASE_URL: process.env.TEST_DATABASE_URL!, PORT: '0', MAIL_WORKER: 'false', WEBHOOK_WORKER: 'false' };
  if (catalog !== undefined) {
    const file = path.join(fs.mkdtempSync(path.join(folder, 'catalog-')), `catalog.${extension}`);
    fs.writeFileSync(file, catalog);
    env.AUTHZ_CATALOG = file;
  }
  return spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', ...program], {
    cwd: ROOT,
    env,
    encoding: 'utf8',
    timeout: 30_000,
  });
}

describe('AUTHZ_CATALOG', () => {
  it('stops the start with one line per error, each naming its entry', () => {
    const result = start(`
permissions:
  - key: sandboxes:create
    description: Create sandboxes
    scope: WORKSPACE
    roles: [OWNER, ADMIN]
    workspaceRoles: [ADMIN, DEVELOPER]
  - key: Sandboxes.Delete
    description: Delete sandboxes
    scope: WORKSPACE
  - key: volumes:admin
    description: Volumes
    scope: TENANT
    roles: [OWNER, SUPERUSER]
  - key: sandboxes:create
    description: again
    scope: ORGANIZATION
  - key: registries:admin
    description: Registries
    scope: ORGANIZATION
    workspaceRoles: [ADMIN]
`);
    expect(result.status).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(/^Invalid AUTHZ_CATALOG \(.*catalog\.yaml\): permissions\[1\] "Sandboxes\.Delete": key: expected resource:action/),
      expect.stringMatching(/permissions\[2\] "volumes:admin": scope: expected ORGANIZATION or WORKSPACE$/),
      expect.stringMatching(/permissions\[2\] "volumes:admin": roles\[1\]: expected one of OWNER, ADMIN, DEVELOPER, VIEWER, GUEST$/),
      expect.stringMatching(/permissions\[3\] "sandboxes:create": key: declared twice$/),
      expect.stringMatching(/permissions\[4\] "registries:admin": workspaceRoles: only a WORKSPACE permission is held by workspace roles$/),
    ]);
    expect(result.stderr).not.toMatch(/\bat \w+ \(/); // no stack
  });

  it.each([
    ['not YAML', 'permissions: [ {', /not valid YAML or JSON at line 1/],
    ['no list', 'permissions: 3', /permissions: expected a list of entries/],
    ['an unknown property', 'permissions: []\nroles: []', /Unrecognized key: "roles"/],
    ['a missing description', 'permissions:\n  - key: a:b\n    scope: WORKSPACE', /permissions\[0\] "a:b": description: expected a string/],
  ])('refuses %s', (_, text, message) => {
    const result = start(text);
    expect(result.status).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(message);
  });

  it('refuses a file it cannot read, naming it', () => {
    const result = spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/main.ts'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, AUTHZ_CATALOG: '/nonexistent/catalog.yaml' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toBe('Invalid AUTHZ_CATALOG (/nonexistent/catalog.yaml): cannot read the file (ENOENT)');
  });

  it('reads JSON as well as YAML, and the example catalog when unset', () => {
    const read = ['-e', "console.log(require('./src/config').loadConfig().catalog.permissions.map((p) => p.key).join(' '))"];
    const json = start(JSON.stringify({ permissions: [{ key: 'apps:deploy', description: 'Deploy apps', scope: 'ORGANIZATION', roles: ['OWNER'] }] }), 'json', read);
    expect(json.stdout.trim()).toBe('apps:deploy');
    expect(start(undefined, 'yaml', read).stdout).toContain('sandboxes:create');
  });
});
