// The web interface in headless Debian Firefox ESR (puppeteer-core over WebDriver BiDi; playwright
// cannot drive a stock Firefox) against `npm start` with token auth on: the projects page, sign-in,
// a project, a repository and an artifact view, with no script error, no console error and no
// request to another origin. The full walk-through is test/web/ui.test.ts, in chromium.
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SEED_PASSWORD, seedTeamAndPub, startSeededRegistry } from '../support/auth-seed.ts';
import { isCI } from '../support/clients.ts';
import type { RunningRegistry } from '../support/registry.ts';
import { pushTinyImage } from '../support/tiny-image.ts';

const FIREFOX = '/usr/bin/firefox-esr';
// In CI (.ci/run installs it) a missing Firefox fails the test instead.
const unavailable = !existsSync(FIREFOX) && !isCI ? `${FIREFOX} is not installed (apt-get install firefox-esr; .ci/run installs it)` : undefined;
if (unavailable) process.stdout.write(`Firefox web interface test skipped: ${unavailable}\n`);

let dir: string;
let reg: RunningRegistry;
let browser: Browser;

beforeAll(async () => {
  if (unavailable) return;
  let service: string;
  ({ dir, reg, service } = await startSeededRegistry('ui-firefox-', (identity) => seedTeamAndPub(identity)));
  const scope = 'repository:team/app:pull,push';
  const r = await fetch(`${reg.url}/token?service=${encodeURIComponent(service)}&scope=${encodeURIComponent(scope)}`, {
    headers: { authorization: `Basic ${Buffer.from(`dev:${SEED_PASSWORD}`).toString('base64')}` },
  });
  const { token } = (await r.json()) as { token: string };
  const launched = puppeteer.launch({ browser: 'firefox', executablePath: FIREFOX, headless: true, defaultViewport: { width: 1100, height: 800 } });
  [browser] = await Promise.all([launched, pushTinyImage(reg.url, 'team/app', 'v1', { authorization: `Bearer ${token}` })]);
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await reg?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

beforeEach((ctx) => {
  if (unavailable) ctx.skip(unavailable);
});

/** A new tab that records script errors, console errors and requests to other origins. */
async function openPage(origin: string): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`page error: ${String(e)}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
  });
  page.on('request', (r) => {
    if (!r.url().startsWith(origin) && !r.url().startsWith('data:')) problems.push(`request to another origin: ${r.url()}`);
  });
  return { page, problems };
}

/** Follows the link to `href` and waits for the view's heading to read `heading`. */
async function follow(page: Page, href: string, heading: string): Promise<void> {
  await page.locator(`a[href="${href}"]`).click();
  // Expressions as strings: they run in the page (this file has no DOM types).
  await page.waitForFunction(`document.querySelector('main h1')?.textContent?.includes(${JSON.stringify(heading)})`);
}

describe('the web interface in Firefox', () => {
  it('loads, signs in and shows a project, a repository and an artifact, without errors or requests elsewhere', async () => {
    const { page, problems } = await openPage(reg.url);
    await page.goto(reg.url);
    await page.locator('a[href="#/p/pub"]').wait();
    expect(await page.$('a[href="#/p/team"]')).toBeNull();
    await page.goto(`${reg.url}/#/signin`);
    // Typed key by key: the form keeps what the input events carry.
    await page.locator('input[name="username"]').wait();
    await page.type('input[name="username"]', 'dev');
    await page.type('input[name="password"]', SEED_PASSWORD);
    await page.click('main button[type="submit"]');
    await page.waitForFunction(`[...document.querySelectorAll('button')].some((b) => b.textContent === 'Sign out')`);
    await follow(page, '#/p/team', 'team');
    await follow(page, '#/r/team/app', 'Repository team/app');
    await follow(page, '#/a/team/app:v1', 'team/app');
    await page.waitForFunction(`document.querySelector('main')?.textContent?.includes('Config and layers')`);
    expect(await page.$eval('main input[readonly]', (e) => (e as unknown as { value: string }).value)).toBe(`docker pull ${reg.host}/team/app:v1`);
    expect(await page.$eval('main', (m) => m.textContent)).toContain('application/vnd.oci.image.layer.v1.tar');
    expect(problems).toEqual([]);
    await page.close();
  });
});
