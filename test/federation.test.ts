import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import gql from 'graphql-tag';
import { composeSupergraph } from '../examples/compose';
import { startGateway } from '../examples/gateway';
import { addMember, createOrganization, gql as query, newUser, ok, serverUrl, type TestUser } from './support/client';
import { ROOT, startServer, TEST_JWT_SECRET } from './support/servers';

/** A third subgraph that references Organization and Workspace by key and adds fields to them. */
const PROJECTS_SDL = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.5", import: ["@key"])
  type Query { projects: [Project!]! }
  type Project @key(fields: "id") { id: ID! name: String! workspace: Workspace }
  type Workspace @key(fields: "id") { id: ID! projectCount: Int! }
  type Organization @key(fields: "id") { id: ID! plan: String }
`;

async function startProjects(workspaceIds: () => string[]) {
  const resolvers = {
    Query: { projects: () => workspaceIds().map((id, i) => ({ id: `p${i}`, name: `Project ${i}`, workspace: { id } })) },
    Workspace: { projectCount: () => 1 },
    Organization: { plan: () => 'via projects' },
  };
  const server = new ApolloServer({ schema: buildSubgraphSchema({ typeDefs: gql(PROJECTS_SDL), resolvers: resolvers as never }) });
  const { url } = await startStandaloneServer(server, { listen: { port: 0, host: '127.0.0.1' } });
  return { url, stop: () => server.stop() };
}

describe('the subgraph as a router sees it', () => {
  it('_service { sdl } is schema.graphql, exactly', async () => {
    const res = await query<{ _service: { sdl: string } }>('{ _service { sdl } }');
    expect(res.data!._service.sdl.trim()).toBe(fs.readFileSync(path.join(ROOT, 'schema.graphql'), 'utf8').trim());
  });

  it('composes with the accounts subgraph and a third one that extends Organization and Workspace', () => {
    const supergraph = composeSupergraph(undefined, { extra: [{ name: 'projects', url: 'http://projects/graphql', sdl: PROJECTS_SDL }] });
    expect(supergraph).toMatch(/type Workspace[^{]*\{[^}]*projectCount: Int!/s);
    expect(supergraph).toMatch(/type Organization[^{]*\{[^}]*plan: String/s);
    expect(supergraph).toMatch(/type User[^{]*\{[^}]*organizations: \[Organization!\]!/s);
    expect(supergraph).toMatch(/@join__graph\(name: "accounts"/);
  });
});

describe('through a gateway', () => {
  let accounts: ChildProcess;
  let projects: Awaited<ReturnType<typeof startProjects>>;
  let gateway: Awaited<ReturnType<typeof startGateway>>;
  let workspaceIds: string[] = [];
  const fetches: { subgraph: string; statements: number }[] = [];

  beforeAll(async () => {
    // In a process of its own (it loads jose, an ES module Jest cannot), on a port of its choosing, which it prints once it serves.
    accounts = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'examples/accounts/server.ts'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, ACCOUNTS_PORT: '0', JWT_SECRET: TEST_JWT_SECRET },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const accountsUrl = await new Promise<string>((resolve, reject) => {
      readline.createInterface({ input: accounts.stdout! }).on('line', (line) => {
        const url = /ready at (\S+)/.exec(line)?.[1];
        if (url) resolve(url);
      });
      accounts.once('exit', (code) => reject(new Error(`the accounts subgraph exited with ${code} before it was ready`)));
    });
    projects = await startProjects(() => workspaceIds);
    // As the subgraph publishes it with FEDERATION_AUTH_DIRECTIVES=false: stock @apollo/gateway, unpatched.
    const supergraphSdl = composeSupergraph(undefined, {
      authDirectives: false,
      routingUrls: { organizations: `${serverUrl()}/graphql`, accounts: accountsUrl },
      extra: [{ name: 'projects', url: projects.url, sdl: PROJECTS_SDL }],
    });
    gateway = await startGateway({
      supergraphSdl,
      port: 0,
      onSubgraphResponse: (subgraph, headers) => fetches.push({ subgraph, statements: Number(headers.get('x-sql-statements')) }),
    });
  });

  afterAll(async () => {
    await gateway?.stop();
    await projects?.stop();
    accounts?.kill();
  });

  const viaGateway = <T = any>(q: string, user: TestUser) => query<T>(q, {}, user, { url: gateway.url.replace(/\/$/, '') });

  it('a query crosses from User into organizations and back to User.email', async () => {
    const ada = newUser('Ada Gateway');
    const bob = newUser('Bob Gateway');
    const org = await createOrganization(ada, 'Federated');
    await addMember(org.id, bob, 'VIEWER');
    // Each user once through the gateway, so the example accounts subgraph knows them.
    for (const u of [ada, bob]) expect((await viaGateway('{ me { id } }', u)).errors).toBeUndefined();
    const res = await viaGateway(
      `{ me { id email organizations { id name members { nodes { role user { id email name } } } } personalOrganization { name } } }`,
      ada,
    );
    expect(res.errors).toBeUndefined();
    expect(res.data.me).toMatchObject({ id: ada.id, email: ada.email, personalOrganization: { name: "Ada's Organization" } });
    const federated = res.data.me.organizations.find((o: any) => o.id === org.id);
    expect(federated.members.nodes).toEqual(
      expect.arrayContaining([
        { role: 'OWNER', user: { id: ada.id, email: ada.email, name: 'Ada Gateway' } },
        { role: 'VIEWER', user: { id: bob.id, email: bob.email, name: 'Bob Gateway' } },
      ]),
    );
  });

  it('a list of 100 workspace references resolves with one _entities call and bounded SQL', async () => {
    const owner = newUser('Many');
    const org = await createOrganization(owner, 'Hundred');
    const { default: pg } = await import('pg');
    const client = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
    await client.connect();
    await client.query(`UPDATE subscriptions SET plan = 'ENTERPRISE', seats = 25 WHERE organization_id = $1`, [org.id]);
    await client.end();
    workspaceIds = [];
    for (let i = 0; i < 100; i++) {
      workspaceIds.push((await ok('mutation($input: CreateWorkspaceInput!) { createWorkspace(input: $input) { id } }', { input: { organizationId: org.id, name: `W${i}` } }, owner)).createWorkspace.id);
    }
    await viaGateway('{ me { id } }', owner);
    fetches.length = 0;
    const res = await viaGateway('{ projects { id workspace { id name viewerRole projectCount organization { name plan } } } }', owner);
    expect(res.errors).toBeUndefined();
    expect(res.data.projects).toHaveLength(100);
    expect(res.data.projects[0].workspace).toMatchObject({ name: 'W0', viewerRole: 'ADMIN', projectCount: 1, organization: { name: 'Hundred', plan: 'via projects' } });
    const toOrganizations = fetches.filter((f) => f.subgraph === 'organizations');
    expect(toOrganizations).toHaveLength(1);
    // Workspaces with the viewer's access in one statement, their organizations in another.
    expect(toOrganizations[0].statements).toBeLessThanOrEqual(2);
    console.log(`gateway: 100 workspace references, ${toOrganizations.length} _entities call, ${toOrganizations[0].statements} SQL statements`);
  });

  it('another tenant\'s references come back null with NOT_FOUND, never their data', async () => {
    expect(workspaceIds).toHaveLength(100);
    const stranger = newUser('Stranger');
    await viaGateway('{ me { id } }', stranger);
    const res = await viaGateway('{ projects { id workspace { id name } } }', stranger);
    expect(res.data.projects).toHaveLength(100);
    for (const p of res.data.projects) expect(p.workspace).toBeNull();
    expect(new Set(res.errors!.map((e) => e.extensions.code))).toEqual(new Set(['NOT_FOUND']));
    expect(JSON.stringify(res.data)).not.toMatch(/"W\d+"/);
  });
});

describe('a gateway with ROUTER_SECRET', () => {
  it('reaches a locked subgraph only when it sends the secret', async () => {
    const subgraph = await startServer({ DATABASE_URL: process.env.TEST_DATABASE_URL, ROUTER_SECRET: 'shh-router' });
    const gateways: Awaited<ReturnType<typeof startGateway>>[] = [];
    try {
      const supergraphSdl = composeSupergraph(undefined, { authDirectives: false, routingUrls: { organizations: `${subgraph.url}/graphql`, accounts: 'http://127.0.0.1:9/' } });
      const locked = await startGateway({ supergraphSdl, port: 0, routerSecret: 'shh-router' });
      gateways.push(locked);
      const unlocked = await startGateway({ supergraphSdl, port: 0 });
      gateways.push(unlocked);
      const user = newUser();
      const good = await query('{ viewer { id } }', {}, user, { url: locked.url.replace(/\/$/, '') });
      expect(good.data).toEqual({ viewer: { id: user.id } });
      const bad = await query('{ viewer { id } }', {}, user, { url: unlocked.url.replace(/\/$/, '') });
      expect(bad.data?.viewer ?? null).toBeNull();
      expect(bad.errors?.length).toBeGreaterThan(0);
    } finally {
      for (const g of gateways) await g.stop();
      await subgraph.stop();
    }
  });
});
