import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { gatewaySupergraph, startGateway } from '../examples/gateway';
import { invitationToken, serverUrl, sql, unique } from './support/client';
import { ROOT, TEST_JWT_SECRET } from './support/servers';
import { waitFor } from './support/wait';

/**
 * The web console (examples/web) as a user drives it, in Debian's Chromium (apt-get install
 * chromium; .ci/run installs it): the console's own server (npm run web) in front of the example
 * gateway, which composes the test server with the accounts subgraph. An owner creates a team and
 * invites; the invitee accepts in a second browser context; the owner changes their role, assigns
 * them a workspace and finds the change in the audit log and its CSV export. An invitation mail's
 * link opens the console's accept page; production mints no development token.
 *
 * WEB_CONSOLE_SCREENSHOT=examples/web/screenshot.png npx jest test/web-console.test.ts
 * also saves the README's screenshot.
 */
// The page's, inside the functions puppeteer runs there (this project's tsconfig has no DOM types).
declare const document: any;

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
jest.setTimeout(180_000);

/** A process of the repository's own, once it printed a line matching `ready` (its first group). */
async function startProcess(script: string, env: Record<string, string>, ready: RegExp): Promise<{ child: ChildProcess; match: string }> {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', script], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'test', JWT_SECRET: TEST_JWT_SECRET, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr!.on('data', (chunk) => (output += chunk));
  const match = await new Promise<string>((resolve, reject) => {
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      output += `${line}\n`;
      const found = ready.exec(line)?.[1];
      if (found) resolve(found);
    });
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code} before it was ready:\n${output}`)));
  });
  return { child, match };
}

let accounts: ChildProcess | undefined;
let web: ChildProcess | undefined;
let gateway: Awaited<ReturnType<typeof startGateway>> | undefined;
let browser: Browser | undefined;
let consoleUrl: string;
const scratch = fs.mkdtempSync(path.join(process.env.TEST_RUN_DIR ?? os.tmpdir(), 'web-console-'));
const downloads = path.join(scratch, 'downloads');
fs.mkdirSync(downloads);

beforeAll(async () => {
  // Fails, never skips: CI installs Chromium (.ci/run), and a console nobody tested is not shipped.
  if (!fs.existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  const started = await startProcess('examples/accounts/server.ts', { ACCOUNTS_PORT: '0' }, /ready at (\S+)/);
  accounts = started.child;
  const accountsUrl = started.match;
  // Composed for stock @apollo/gateway (the subgraph's SDL without the router's authorization directives).
  const supergraphSdl = gatewaySupergraph({ routingUrls: { organizations: `${serverUrl()}/graphql`, accounts: accountsUrl } });
  gateway = await startGateway({ supergraphSdl, port: 0 });
  const served = await startProcess(
    'examples/web/serve.ts',
    { WEB_PORT: '0', WEB_OUT_DIR: path.join(scratch, 'dist'), GATEWAY_PORT: new URL(gateway.url).port, PORT: new URL(serverUrl()).port },
    /web console at (\S+)/,
  );
  web = served.child;
  consoleUrl = served.match.replace(/\/$/, '');
  browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
});

afterAll(async () => {
  await browser?.close();
  web?.kill();
  await gateway?.stop();
  accounts?.kill();
  fs.rmSync(scratch, { recursive: true, force: true });
});

/** A page in a browser context of its own (its own localStorage: another person), signed in through the development sign-in. */
async function signIn(email: string, name: string): Promise<Page> {
  const context = await browser!.createBrowserContext({ downloadBehavior: { policy: 'allow', downloadPath: downloads } });
  const page = await context.newPage();
  await page.setViewport({ width: 1280, height: 800 });
  await page.goto(consoleUrl);
  await page.locator('input[name=email]').fill(email);
  await page.locator('input[name=name]').fill(name);
  await page.locator('button[type=submit]::-p-text(Sign in)').click();
  await page.waitForSelector('select[aria-label=Organization]');
  return page;
}

const selectedOrganization = (page: Page) => page.$eval('select[aria-label=Organization]', (s: any) => s.selectedOptions[0]?.textContent ?? '');

async function waitForSelected(page: Page, name: string): Promise<void> {
  await page.waitForFunction((n) => document.querySelector('select[aria-label=Organization]')?.selectedOptions[0]?.textContent?.includes(n), {}, name);
}

/** Waits until the table row for `email` (tr[data-email]) in `section` contains `text`. */
async function waitForRow(page: Page, section: string, email: string, text: string): Promise<void> {
  await page.waitForFunction(
    (s, e, t) => document.querySelector(`section[aria-label="${s}"] tr[data-email="${e}"]`)?.textContent?.includes(t),
    {},
    section,
    email,
    text,
  );
}

it('create a team, invite, accept as the invitee, change the role and assignments, assign a workspace, find it in the audit log and its CSV', async () => {
  const team = `Console Team ${unique('t').slice(-6)}`;
  const owner = { email: `${unique('owner')}@example.test`, name: 'Olivia Owner' };
  const invitee = { email: `${unique('invitee')}@example.test`, name: 'Ivan Invitee' };
  const other = `${unique('other')}@example.test`;

  // The owner creates a team: the switcher selects it.
  const ownerPage = await signIn(owner.email, owner.name);
  await ownerPage.locator('input[aria-label="New team name"]').fill(team);
  await ownerPage.locator('button::-p-text(Create team)').click();
  await waitForSelected(ownerPage, team);

  // Invites two people, resends one link and cancels the other invitation.
  await ownerPage.locator('nav button::-p-text(Invitations)').click();
  for (const email of [invitee.email, other]) {
    await ownerPage.locator('input[aria-label="Emails to invite"]').fill(email);
    await ownerPage.locator('button[type=submit]::-p-text(Invite)').click();
    await waitForRow(ownerPage, 'Invitations', email, 'PENDING');
  }
  await ownerPage.locator(`tr[data-email="${invitee.email}"] button::-p-text(Resend)`).click();
  await waitForRow(ownerPage, 'Invitations', invitee.email, '2×');
  await ownerPage.locator(`tr[data-email="${other}"] button::-p-text(Cancel)`).click();
  await ownerPage.waitForFunction((e) => !document.querySelector(`tr[data-email="${e}"]`), {}, other);

  // The invitee, in a browser context of its own, sees the invitation and accepts it.
  const inviteePage = await signIn(invitee.email, invitee.name);
  await inviteePage.waitForSelector(`section[aria-label="Invitations for you"] ::-p-text(${team})`);
  await inviteePage.locator('section[aria-label="Invitations for you"] button::-p-text(Accept)').click();
  await waitForSelected(inviteePage, team);
  await waitForRow(inviteePage, 'Members', invitee.email, 'VIEWER');

  // The owner makes the new member a DEVELOPER.
  await ownerPage.locator('nav button::-p-text(Members)').click();
  await waitForRow(ownerPage, 'Members', invitee.email, invitee.name);
  await ownerPage.select(`select[aria-label="Role of ${invitee.email}"]`, 'DEVELOPER');
  await ownerPage.waitForFunction((e) => document.querySelector(`select[aria-label="Role of ${e}"]`)?.value === 'DEVELOPER', {}, invitee.email);

  // …and an AUDITOR: the assignment that lets them read the audit log.
  const auditor = `input[aria-label="AUDITOR for ${invitee.email}"]`;
  await ownerPage.locator(auditor).click();
  await ownerPage.waitForFunction((sel) => document.querySelector(sel)?.checked === true, {}, auditor);

  // The owner creates a workspace and assigns the new member to it, with a role override.
  await ownerPage.locator('nav button::-p-text(Workspaces)').click();
  await ownerPage.locator('input[aria-label="New workspace name"]').fill('Docs');
  await ownerPage.locator('button::-p-text(Create workspace)').click();
  const giveAccess = 'select[aria-label="Give access to Docs"]';
  await ownerPage.waitForSelector(`${giveAccess} ::-p-text(${invitee.name})`);
  const membershipId = await ownerPage.$eval(giveAccess, (s: any, n) => [...s.options].find((o: any) => o.textContent.includes(n)).value, invitee.name);
  await ownerPage.select(giveAccess, membershipId);
  const workspaceRole = `select[aria-label="Workspace role of ${invitee.email}"]`;
  await ownerPage.waitForSelector(workspaceRole);
  await ownerPage.select(workspaceRole, 'VIEWER');
  await ownerPage.waitForFunction((sel) => document.querySelector(sel)?.value === 'VIEWER', {}, workspaceRole);

  // The audit log shows the role change, filtered by action, and exports it as CSV.
  await ownerPage.locator('nav button::-p-text(Audit log)').click();
  await ownerPage.waitForSelector('tr[data-action="member.role_changed"]');
  await ownerPage.locator('input[aria-label=Actions]').fill('member.role_changed');
  await ownerPage.locator('button::-p-text(Filter)').click();
  await ownerPage.waitForFunction(() => {
    const actions = [...document.querySelectorAll('tr[data-action]')].map((row: any) => row.getAttribute('data-action'));
    return actions.length === 1 && actions[0] === 'member.role_changed';
  });
  const entry = await ownerPage.$eval('tr[data-action="member.role_changed"]', (row) => row.textContent ?? '');
  expect(entry).toContain(owner.name);
  expect(entry).toContain('DEVELOPER');

  await ownerPage.locator('button::-p-text(Export CSV)').click();
  const csv = await waitFor('the CSV download', () => {
    const file = fs.readdirSync(downloads).find((f) => f.endsWith('.csv'));
    return file && fs.readFileSync(path.join(downloads, file), 'utf8');
  });
  const lines = csv.trim().split(/\r?\n/);
  expect(lines).toHaveLength(2); // the header and the one filtered event
  expect(lines[1]).toContain('member.role_changed');

  // The invitee's switcher remembers the team across a reload; the console shows the new role and what the assignment opened.
  await inviteePage.reload();
  await inviteePage.waitForSelector('select[aria-label=Organization]');
  expect(await selectedOrganization(inviteePage)).toContain(team);
  await waitForRow(inviteePage, 'Members', invitee.email, 'DEVELOPER');
  await inviteePage.waitForSelector('nav button::-p-text(Audit log)');
  await inviteePage.locator('nav button::-p-text(Workspaces)').click();
  await inviteePage.waitForSelector('article[aria-label="Workspace Docs"] ::-p-text(your role VIEWER)');

  if (process.env.WEB_CONSOLE_SCREENSHOT) {
    await ownerPage.locator('input[aria-label=Actions]').fill('');
    await ownerPage.locator('button::-p-text(Filter)').click();
    await ownerPage.waitForFunction(() => document.querySelectorAll('tr[data-action]').length > 1);
    await ownerPage.screenshot({ path: path.resolve(ROOT, process.env.WEB_CONSOLE_SCREENSHOT) as `${string}.png` });
  }
});

it("an invitation mail's link (PUBLIC_URL/invitations/accept?token=…) opens the console's accept page", async () => {
  const team = `Linked Team ${unique('t').slice(-6)}`;
  const invitee = `${unique('linked')}@example.test`;
  const ownerPage = await signIn(`${unique('owner')}@example.test`, 'Lena Owner');
  await ownerPage.locator('input[aria-label="New team name"]').fill(team);
  await ownerPage.locator('button::-p-text(Create team)').click();
  await waitForSelected(ownerPage, team);
  await ownerPage.locator('nav button::-p-text(Invitations)').click();
  await ownerPage.locator('input[aria-label="Emails to invite"]').fill(invitee);
  await ownerPage.locator('button[type=submit]::-p-text(Invite)').click();
  await waitForRow(ownerPage, 'Invitations', invitee, 'PENDING');
  // What the mail carries: the test server sends none, its outbox holds it.
  const [{ id }] = await sql<{ id: string }>('SELECT id FROM invitations WHERE email = $1', [invitee]);
  const link = `${consoleUrl}/invitations/accept?token=${await invitationToken(id)}`;

  const page = await (await browser!.createBrowserContext()).newPage();
  await page.goto(link);
  await page.waitForSelector(`h1::-p-text(Join ${team})`);
  // Signing in from the link offers the invited address.
  expect(await page.$eval('input[name=email]', (i: any) => i.value)).toBe(invitee);
  await page.locator('input[name=name]').fill('Link Invitee');
  await page.locator('button[type=submit]::-p-text(Sign in)').click();
  await page.locator('button::-p-text(Accept)').click();
  await waitForSelected(page, team);
  await waitForRow(page, 'Members', invitee, 'VIEWER');
});

it('mints no development token in production', async () => {
  const production = await startProcess(
    'examples/web/serve.ts',
    {
      NODE_ENV: 'production',
      JWT_SECRET: 'a-production-secret-that-is-not-the-development-one',
      ENCRYPTION_KEY: 'cHJvZHVjdGlvbi1lbmNyeXB0aW9uLWtleS0zMmJ5dGU=',
      WEB_PORT: '0',
      WEB_OUT_DIR: path.join(scratch, 'dist-production'),
    },
    /web console at (\S+)/,
  );
  try {
    const res = await fetch(`${production.match}dev/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"email":"ada@example.com"}' });
    expect(res.status).toBe(404);
    expect(await res.text()).not.toMatch(/eyJ/);
    // The development server does mint one: the refusal above is production's, not a broken endpoint.
    const dev = await fetch(`${consoleUrl}/dev/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"email":"ada@example.com"}' });
    expect(dev.status).toBe(200);
  } finally {
    production.child.kill();
  }
});
