import fs from 'node:fs';
import puppeteer, { type Browser } from 'puppeteer-core';
import { newUser, ok, serverUrl } from './support/client';

/** Debian's chromium (.ci/run installs it); CHROMIUM_PATH for another. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Every URL the page's markup loads: script src, link href, img src. */
function assetUrls(html: string): string[] {
  const urls: string[] = [];
  for (const [, tag, attrs] of html.matchAll(/<(script|link|img)\b([^>]*)>/gi)) {
    const attr = tag.toLowerCase() === 'link' ? 'href' : 'src';
    const value = new RegExp(`\\b${attr}\\s*=\\s*["']([^"']+)["']`, 'i').exec(attrs)?.[1];
    if (value) urls.push(value);
  }
  return urls;
}

describe('the local explorer: GraphiQL at /graphiql, from node_modules', () => {
  it('links only same-origin assets, each of which answers 200, and names no CDN', async () => {
    const res = await fetch(`${serverUrl()}/graphiql`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    const html = await res.text();
    expect(html).not.toMatch(/https?:\/\//);
    const urls = assetUrls(html);
    expect(urls.length).toBeGreaterThanOrEqual(4); // favicon, stylesheet, GraphiQL, its start
    for (const url of urls) {
      const absolute = new URL(url, `${serverUrl()}/graphiql`);
      expect(absolute.origin).toBe(new URL(serverUrl()).origin);
      const asset = await fetch(absolute);
      expect([url, asset.status]).toEqual([url, 200]);
      await asset.arrayBuffer();
    }
    // The Monaco workers the start script names answer too.
    const start = await (await fetch(new URL(urls.find((u) => u.endsWith('start.js'))!, serverUrl()))).text();
    const workerBase = /return '([^']+)' \+/.exec(start)![1];
    for (const worker of ['editor', 'json', 'graphql']) expect((await fetch(`${serverUrl()}${workerBase}${worker}.worker.js`)).status).toBe(200);
  });

  it('Apollo Sandbox stays the landing page on /graphql, and points to /graphiql', async () => {
    const res = await fetch(`${serverUrl()}/graphql`, { headers: { accept: 'text/html' } });
    const html = await res.text();
    expect(html).toMatch(/sandbox/i);
    expect(html).toMatch(/<a href="\/graphiql" id="local-graphiql"/);
  });

  describe('in headless Chromium with every other origin blocked (offline)', () => {
    let browser: Browser;
    beforeAll(async () => {
      if (!fs.existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
      browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
    });
    afterAll(async () => {
      await browser?.close();
    });

    it('runs a query with the Authorization header typed into its headers editor', async () => {
      const user = newUser('Grace Explorer');
      const { viewer } = await ok<{ viewer: { id: string } }>('{ viewer { id } }', {}, user);
      const page = await browser.newPage();
      const origin = new URL(serverUrl()).origin;
      const foreign: string[] = [];
      const failed: string[] = [];
      await page.setRequestInterception(true);
      page.on('request', (request) => {
        const url = request.url();
        if (url.startsWith(origin) || url.startsWith('blob:') || url.startsWith('data:')) return void request.continue();
        foreign.push(url);
        void request.abort();
      });
      page.on('requestfailed', (request) => failed.push(`${request.url()} ${request.failure()?.errorText}`));
      page.on('response', (response) => {
        if (response.status() >= 400) failed.push(`${response.url()} ${response.status()}`);
      });
      await page.goto(`${serverUrl()}/graphiql?query=${encodeURIComponent('query Me { viewer { id } }')}`, { waitUntil: 'load' });
      await page.waitForSelector('.graphiql-execute-button', { timeout: 30_000 });
      // The token goes in through the headers editor, typed as a person would.
      const [headersTab] = await page.$$('xpath/.//button[normalize-space(text())="Headers"]');
      await headersTab.click();
      const editors = await page.$$('.graphiql-editor-tool .monaco-editor');
      const headersEditor = editors[editors.length - 1];
      await headersEditor.click();
      await page.keyboard.down('Control');
      await page.keyboard.press('KeyA');
      await page.keyboard.up('Control');
      await page.keyboard.press('Backspace');
      await page.keyboard.type(`{"Authorization": "Bearer ${user.token}"`);
      await page.click('.graphiql-execute-button');
      await page.waitForFunction((id: string) => (globalThis as unknown as { document: { body: { innerText: string } } }).document.body.innerText.includes(id), { timeout: 30_000 }, viewer.id);
      expect(foreign).toEqual([]);
      expect(failed).toEqual([]);
      await page.close();
    });
  });
});
