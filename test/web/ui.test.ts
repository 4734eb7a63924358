// The web interface in headless Debian chromium against `npm start` (token auth on): anonymous and
// signed-in browsing down to a multi-platform image with a referrer (the project view's repository
// table with its tag count on the way), the pull command copied, a tag deleted by a maintainer, no
// Delete button for a guest (and the registry refusing the guest's call itself), a robot created on
// the page and its secret used by skopeo to pull, a storage quota set by a system administrator and
// shown with the usage after a push (its project's admin sees no editor). axe-core finds no serious or
// critical violation on any view; the main views are saved to docs/screenshots/. Then the same browser
// against start:aws (the page from its bucket behind the CloudFront emulation): the same browsing, a
// tag deleted, a guest refused, skopeo pulling as a robot made on the page, the files' headers and caching.
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { startAwsLocal, type AwsLocal } from '../../dev/start-aws/start.ts';
import { UI_CACHE_CONTROL, UI_SECURITY_HEADERS } from '../../functions/web/headers.ts';
import { serviceOf, startSeededRegistry } from '../support/auth-seed.ts';
import { browserUnavailable, launchBrowser, openPage, screenshot, seriousViolations, type Browser } from '../support/browser.ts';
import { OCI_MANIFEST } from '../support/oci.ts';
import type { RunningRegistry } from '../support/registry.ts';
import { pushTinyImage } from '../support/tiny-image.ts';
import { expectGuestRefused, pushImages, seed, sha256, skopeoAsRobot, skopeoMissing, token as tokenOf, UI_PASSWORD, type UiImages, type UiTarget } from '../support/ui-registry.ts';

const unavailable = browserUnavailable();
if (unavailable) process.stdout.write(`web interface tests skipped: ${unavailable}\n`);

let dir: string;
let reg: RunningRegistry;
let aws: AwsLocal | undefined;
let browser: Browser;
/** The registry the helpers below talk to: `npm start`, then start:aws. */
let target: UiTarget;
let image: UiImages;
const token = (user: string, scope: string) => tokenOf(target, user, scope);

beforeAll(async () => {
  if (unavailable) return;
  let service: string;
  ({ dir, reg, service } = await startSeededRegistry('ui-test-', seed));
  target = { url: reg.url, host: reg.host, service };
  [browser, image] = await Promise.all([launchBrowser(), pushImages(target)]);
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await reg?.stop();
  await aws?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

beforeEach((ctx) => {
  if (unavailable) ctx.skip(unavailable);
});

async function expectAccessible(page: Page, view: string): Promise<void> {
  const violations = await seriousViolations(page);
  expect(violations, `${view}: ${JSON.stringify(violations, null, 1)}`).toEqual([]);
}

/** A new tab on the registry under test, signed in as `user` through the form (the projects page then). */
async function signedIn(user: string): Promise<{ page: Page; problems: string[] }> {
  const opened = await openPage(browser, target.url);
  await opened.page.goto(`${target.url}/#/signin`);
  await opened.page.getByLabel('User name').fill(user);
  await opened.page.getByLabel('Password').fill(UI_PASSWORD);
  await opened.page.getByRole('button', { name: 'Sign in' }).click();
  await opened.page.getByRole('button', { name: 'Sign out' }).waitFor();
  return opened;
}

/** A guest's tab: the repository view with no Delete button, and the registry refusing the guest's own DELETE. */
async function guestSeesNoDelete(): Promise<{ page: Page; problems: string[] }> {
  const opened = await signedIn('gus');
  await opened.page.goto(`${target.url}/#/r/team/app`);
  await opened.page.getByRole('link', { name: 'multi' }).waitFor();
  expect(await opened.page.getByRole('button', { name: /Delete/ }).count()).toBe(0);
  await expectGuestRefused(target);
  return opened;
}

/**
 * From the projects page, signed in: team, team/app, tag `multi`; its two platforms and its SBOM
 * referrer shown. `where` labels the accessibility checks of a second registry (no screenshots then).
 */
async function browseToMultiPlatformImage(page: Page, where?: string): Promise<void> {
  const view = where ? ` (${where})` : '';
  await page.getByRole('link', { name: 'team', exact: true }).click();
  // The project's repositories with their summaries: team/app's three tags (amd64, old, multi), its
  // size (its blobs summed: known on both backends, so never —), its last push, its pulls.
  const row = page.getByRole('row', { name: /team\/app/ });
  await expect.poll(() => row.getByRole('cell').allInnerTexts()).toEqual(['3', expect.stringMatching(/^\d+(\.\d)? (B|KiB|MiB)$/), expect.stringMatching(/^\d{4}-\d\d-\d\d [\d:]+ UTC$/), expect.stringMatching(/^\d+$/)]);
  await expectAccessible(page, `project${view}`);
  if (!where) await screenshot(page, 'project');
  await page.getByRole('link', { name: 'team/app' }).click();
  await page.getByRole('heading', { name: 'Repository team/app' }).waitFor();
  await page.getByRole('link', { name: 'multi' }).waitFor();
  await expectAccessible(page, `repository${view}`);
  if (!where) await screenshot(page, 'repository');
  await page.getByRole('link', { name: 'multi' }).click();
  await page.getByRole('heading', { name: 'Platforms' }).waitFor();
  const platforms = page.locator('table').first();
  await expect.poll(() => platforms.innerText()).toContain('linux/amd64');
  expect(await platforms.innerText()).toContain('linux/arm64');
  const referrers = page.locator('section table').nth(1);
  expect(await referrers.innerText()).toContain('application/spdx+json');
  expect(await referrers.innerText()).toContain(image.sbom.slice(0, 19));
  await expectAccessible(page, `artifact${view}`);
  if (!where) await screenshot(page, 'artifact');
}

/** The artifact view's Copy button puts the pull command for the registry under test on the clipboard. */
async function expectPullCommandCopied(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Copy' }).click();
  await page.getByRole('status').filter({ hasText: 'Copied' }).waitFor();
  expect(await page.evaluate('navigator.clipboard.readText()')).toBe(`docker pull ${target.host}/team/app:multi`);
}

/** A maintainer's tab with the clipboard allowed: browsed to the multi-platform image, its pull command copied. */
async function maintainerCopiesPullCommand(where?: string): Promise<{ page: Page; problems: string[] }> {
  await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: target.url });
  const opened = await signedIn('maya');
  await browseToMultiPlatformImage(opened.page, where);
  await expectPullCommandCopied(opened.page);
  return opened;
}

/** A maintainer deletes tag `old` on the repository view, confirming; the tag is gone, its manifest stays. */
async function deleteTagOld(page: Page, where = ''): Promise<void> {
  await page.goto(`${target.url}/#/r/team/app`);
  await page.getByRole('button', { name: 'Delete tag old' }).click();
  const confirm = page.getByRole('alertdialog');
  expect(await confirm.innerText()).toContain('team/app:old');
  expect(await confirm.innerText()).toContain(image.arm64);
  await expectAccessible(page, `delete confirmation${where}`);
  await confirm.getByRole('button', { name: 'Delete tag old' }).click();
  await page.getByText('Deleted tag old.').waitFor();
  await expect.poll(() => page.getByRole('link', { name: 'old', exact: true }).count()).toBe(0);
  await page.getByRole('link', { name: 'multi' }).waitFor();
  const pull = `Bearer ${await token('maya', 'repository:team/app:pull')}`;
  expect((await fetch(`${target.url}/v2/team/app/manifests/old`, { headers: { authorization: pull } })).status).toBe(404);
  expect((await fetch(`${target.url}/v2/team/app/manifests/${image.arm64}`, { headers: { authorization: pull, accept: OCI_MANIFEST } })).status).toBe(200);
}

/** A project admin's robots tab: robot `name` created with the default (pull) access; its secret, shown once. */
async function createRobot(page: Page, name: string): Promise<string> {
  await page.goto(`${target.url}/#/p/team/robots`);
  await page.getByLabel('Name').fill(name);
  await page.getByRole('button', { name: 'Create robot' }).click();
  const secret = await page.getByRole('textbox', { name: 'Secret', exact: true }).inputValue();
  expect(secret.length).toBeGreaterThan(20);
  expect(await page.getByRole('textbox', { name: 'Robot name' }).inputValue()).toBe(`robot$team+${name}`);
  return secret;
}

describe('the web interface', () => {
  it('anonymous visitors see public projects only, and the sign-in form; nothing but the registry is asked for', async () => {
    const { page, problems } = await openPage(browser, reg.url);
    await page.goto(reg.url);
    await page.getByRole('link', { name: 'pub' }).waitFor();
    expect(await page.getByRole('link', { name: 'team' }).count()).toBe(0);
    await expectAccessible(page, 'projects (anonymous)');
    await page.goto(`${reg.url}/#/signin`);
    await page.getByLabel('User name').waitFor();
    await expectAccessible(page, 'sign in');
    await screenshot(page, 'sign-in');
    await page.getByLabel('User name').fill('maya');
    await page.getByLabel('Password').fill('wrong password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('Wrong user name or password.').waitFor();
    expect(problems.filter((p) => !p.includes('401'))).toEqual([]);
    await page.close();
  });

  it('a maintainer browses to a multi-platform image, sees its platforms and referrer, copies the pull command, and deletes a tag', async () => {
    const { page, problems } = await maintainerCopiesPullCommand();
    // The referrer itself, reached by its link.
    await page.getByRole('link', { name: image.sbom.slice(0, 19) }).click();
    await page.getByText('Refers to', { exact: true }).waitFor();
    await expectAccessible(page, 'referrer');
    await deleteTagOld(page);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('a guest gets no Delete button, and the registry refuses the guest\'s delete', async () => {
    const { page, problems } = await guestSeesNoDelete();
    // The tag policies read-only.
    await page.goto(`${reg.url}/#/p/team`);
    await page.getByRole('link', { name: 'Tag policies' }).click();
    await page.getByRole('heading', { name: 'Retention rules' }).waitFor();
    expect(await page.getByRole('button', { name: 'Add rule' }).count()).toBe(0);
    // Nor the storage quota: only its admins see it (the API tells no one else).
    expect(await page.getByRole('heading', { name: 'Storage quota' }).count()).toBe(0);
    // Nor may the guest manage the project: no Robots tab, and the API answers 403.
    expect(await page.getByRole('link', { name: 'Robots' }).count()).toBe(0);
    const api = await fetch(`${reg.url}/api/v1/projects/team/robots`, { method: 'POST', headers: { authorization: `Bearer ${await token('gus', 'registry:management:*')}`, 'content-type': 'application/json' }, body: '{"name":"x","actions":["pull"]}' });
    expect(api.status).toBe(403);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('a project admin creates a robot (secret shown once), rotates it, skopeo pulls with the new secret only, then revokes it; members and audit log views', async (ctx) => {
    if (skopeoMissing()) return ctx.skip(skopeoMissing()!);
    const { page, problems } = await signedIn('alice');
    await expectAccessible(page, 'projects (signed in)');
    await screenshot(page, 'projects');
    const first = await createRobot(page, 'puller');
    const secretField = page.getByRole('textbox', { name: 'Secret', exact: true });
    await expectAccessible(page, 'robots');
    await screenshot(page, 'robots', [secretField]);
    await page.getByRole('button', { name: 'Done, hide it' }).click();
    expect(await secretField.count()).toBe(0);
    await page.getByRole('button', { name: 'Rotate secret' }).click();
    await expect.poll(() => secretField.count()).toBe(1);
    const secret = await secretField.inputValue();
    expect(secret).not.toBe(first);

    await skopeoAsRobot(target, 'puller', async (inspect) => {
      expect(sha256(await inspect(secret))).toBe(image.index);
      await expect(inspect(first)).rejects.toThrow(/401|unauthorized|authentication/i);
      await page.getByRole('button', { name: 'Revoke' }).click();
      await page.getByRole('alertdialog').getByRole('button', { name: 'Revoke robot$team+puller' }).click();
      await page.getByRole('cell', { name: 'revoked' }).waitFor();
      await expect(inspect(secret)).rejects.toThrow(/401|unauthorized|authentication/i);
    });

    await page.goto(`${reg.url}/#/p/team/policies`);
    // The project's admin reads its storage use but may not set its quota (a system administrator's call).
    await page.getByText(/used, no quota/).waitFor();
    expect(await page.getByRole('button', { name: 'Set quota' }).count()).toBe(0);
    const retention = page.getByRole('form', { name: 'Add to retention rules' });
    await retention.getByLabel('Tags (pattern)').fill('pr-*');
    await retention.getByRole('combobox', { name: 'Limit' }).selectOption('notPulledDays');
    await retention.getByLabel('Number').fill('30');
    await retention.getByRole('button', { name: 'Add rule' }).click();
    await page.getByRole('cell', { name: 'not pulled for 30 days' }).waitFor();
    const immutable = page.getByRole('form', { name: 'Add to immutable tags' });
    await immutable.getByLabel('Tags (pattern)').fill('v*');
    await immutable.getByRole('button', { name: 'Add rule' }).click();
    await page.getByRole('button', { name: 'Remove immutable tags rule team/* v*' }).waitFor();
    await expectAccessible(page, 'tag policies');
    await screenshot(page, 'policies');
    await page.getByRole('button', { name: 'Remove immutable tags rule team/* v*' }).click();
    await expect.poll(() => page.getByRole('button', { name: 'Remove immutable tags rule team/* v*' }).count()).toBe(0);
    const policy = await (await fetch(`${reg.url}/api/v1/projects/team/policy`, { headers: { authorization: `Bearer ${await token('alice', 'registry:management:*')}` } })).json();
    expect(policy).toEqual({ project: 'team', immutableTags: [], retention: [{ repositories: 'team/*', tags: 'pr-*', notPulledDays: 30 }], retentionProtect: [] });

    await page.goto(`${reg.url}/#/p/team/members`);
    await page.getByRole('textbox', { name: 'User', exact: true }).fill('root');
    await page.getByRole('combobox', { name: /^Role/ }).selectOption('guest');
    await page.getByRole('button', { name: 'Save member' }).click();
    await page.getByRole('cell', { name: 'root' }).waitFor();
    await expectAccessible(page, 'members');
    await page.goto(`${reg.url}/#/p/team/audit`);
    await page.getByRole('cell', { name: 'admin.robot.create' }).first().waitFor();
    expect(await page.getByRole('cell', { name: 'admin.robot.revoke' }).count()).toBe(1);
    await page.getByLabel('Action').fill('member');
    await expect.poll(() => page.getByRole('cell', { name: 'admin.robot.create' }).count()).toBe(0);
    await expectAccessible(page, 'audit log');
    await screenshot(page, 'audit');
    expect(problems).toEqual([]);
    await page.close();
  });

  it('a system administrator creates a project and makes it public; the whole audit log; keyboard only, and a phone-width screen', async () => {
    const { page, problems } = await signedIn('root');
    await page.getByLabel('Name').fill('made');
    await page.getByRole('button', { name: 'Create project' }).click();
    await page.getByRole('link', { name: 'made' }).click();
    await page.getByText('private', { exact: true }).waitFor();
    await page.getByRole('button', { name: 'Make public' }).click();
    await page.getByText('public', { exact: true }).waitFor();
    // Its storage quota, set on the tag policies tab (the server's refusal shown), then in the projects
    // and project views with the usage a push adds; removed again.
    await page.getByRole('link', { name: 'Tag policies' }).click();
    const quota = page.getByRole('form', { name: 'Set the storage quota' });
    await quota.getByLabel(/^Quota/).fill('2000 TiB');
    await quota.getByRole('button', { name: 'Set quota' }).click();
    await page.getByRole('alert').filter({ hasText: 'from 1 to 1125899906842624 (1 PiB)' }).waitFor();
    await quota.getByLabel(/^Quota/).fill('ten gigs');
    await quota.getByRole('button', { name: 'Set quota' }).click();
    await page.getByRole('alert').filter({ hasText: 'is not a size' }).waitFor();
    await quota.getByLabel(/^Quota/).fill('10 GiB');
    await quota.getByRole('button', { name: 'Set quota' }).click();
    await page.getByText('0 B / 10 GiB (0%)').waitFor();
    expect(await page.getByRole('alert').count()).toBe(0);
    await expectAccessible(page, 'tag policies (quota editor)');
    await pushTinyImage(reg.url, 'made/x', 'v1', { authorization: `Bearer ${await token('root', 'repository:made/x:pull,push')}` });
    await page.goto(`${reg.url}/#/`);
    await expect.poll(() => page.getByRole('row', { name: /^made / }).innerText()).toMatch(/[1-9][\d.]* (B|KiB) \/ 10 GiB \(<1%\)/);
    expect(await page.getByRole('row', { name: /^team / }).innerText()).toMatch(/used, no quota/);
    await expectAccessible(page, 'projects (storage)');
    await page.getByRole('link', { name: 'made' }).click();
    await page.getByText(/ \/ 10 GiB \(<1%\)/).waitFor();
    await expectAccessible(page, 'project (storage)');
    expect((await fetch(`${reg.url}/api/v1/projects/made/quota`, { headers: { authorization: `Bearer ${await token('root', 'registry:management:*')}` } }).then((r) => r.json()) as { quotaBytes: number }).quotaBytes).toBe(10 * 1024 ** 3);
    await page.goto(`${reg.url}/#/p/made/policies`);
    await page.getByRole('button', { name: 'Remove quota' }).click();
    await page.getByText(/used, no quota/).waitFor();
    expect((await fetch(`${reg.url}/api/v1/projects`).then((r) => r.json()) as { projects: { name: string }[] }).projects.map((p) => p.name)).toContain('made');
    await page.goto(`${reg.url}/#/audit`);
    await page.getByRole('cell', { name: 'admin.project.create' }).first().waitFor();
    await expectAccessible(page, 'audit log (registry)');

    // Keyboard only: to the search field, a query, Enter; Tab to the result, Enter.
    await page.goto(`${reg.url}/#/`);
    await page.reload();
    await page.getByRole('link', { name: 'pub' }).waitFor();
    // From the top of the page: the brand link, then the search field.
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement.id')).toBe('q');
    await page.keyboard.type('app');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Repositories matching “app”' }).waitFor();
    await expectAccessible(page, 'search');
    const result = page.getByRole('link', { name: 'team/app' });
    await result.focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Repository team/app' }).waitFor();

    // 360 px wide: nothing wider than the screen but the tables' own scroll boxes.
    await page.setViewportSize({ width: 360, height: 740 });
    for (const view of ['#/', '#/r/team/app', `#/a/team/app@${image.index}`]) {
      await page.goto(`${reg.url}/${view}`);
      await page.locator('main h1').waitFor();
      await page.locator('main table, main ul.list, main p').first().waitFor();
      expect(await page.evaluate('document.documentElement.scrollWidth'), view).toBeLessThanOrEqual(360);
    }
    await screenshot(page, 'artifact-phone');
    // The one refusal asked for: the quota beyond 1 PiB.
    expect(problems).toEqual(['console error: Failed to load resource: the server responded with a status of 400 (Bad Request)']);
    await page.close();
  });
});

describe('the web interface on start:aws: its bucket behind the CloudFront emulation, the same browser', () => {
  beforeAll(async () => {
    if (unavailable) return;
    aws = await startAwsLocal({ host: '127.0.0.1', port: 0, ingest: false, auth: true });
    await seed(aws.deps.identity);
    target = { url: aws.url, host: new URL(aws.url).host, service: await serviceOf(aws.url) };
    image = await pushImages(target);
  }, 90_000);

  it('the page (at / and /index.html) and its files come from the bucket with the headers and caching `npm start` sends; GET/HEAD only; a missing file is S3\'s 403', async () => {
    const url = target.url;
    const page = await fetch(`${url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('cache-control')).toBe(UI_CACHE_CONTROL.revalidate);
    for (const [name, value] of Object.entries(UI_SECURITY_HEADERS)) expect(page.headers.get(name), name).toBe(value);
    const html = await page.text();
    expect(await (await fetch(`${url}/index.html`)).text()).toBe(html);
    const head = await fetch(`${url}/`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(Buffer.byteLength(html)));
    const script = /src="(\/ui\/main-[A-Z0-9]+\.js)"/.exec(html)![1]!;
    const js = await fetch(`${url}${script}`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('cache-control')).toBe(UI_CACHE_CONTROL.immutable);
    expect(js.headers.get('content-security-policy')).toBe(UI_SECURITY_HEADERS['content-security-policy']);
    await js.arrayBuffer();
    const missing = await fetch(`${url}/ui/nope.js`);
    expect(missing.status).toBe(403);
    expect(await missing.text()).toContain('AccessDenied');
    for (const path of ['/ui/icon.svg', '/index.html']) expect((await fetch(`${url}${path}`, { method: 'POST', body: 'x' })).status, path).toBe(403);
    // `/` written to is the API's (which has no such route); the API behaviour's answers carry the policy too.
    const post = await fetch(`${url}/`, { method: 'POST' });
    expect(post.headers.get('content-type')).toContain('application/json');
    expect(post.headers.get('x-content-type-options')).toBe('nosniff');
    await post.arrayBuffer();
    expect((await fetch(`${url}/v2/`)).headers.get('content-security-policy')).toBe(UI_SECURITY_HEADERS['content-security-policy']);
  });

  it('a maintainer signs in, browses to the multi-platform image (platforms, referrer), copies the pull command and deletes a tag; nothing but the registry is asked for', async () => {
    const { page, problems } = await maintainerCopiesPullCommand('start:aws');
    await deleteTagOld(page, ' (start:aws)');
    expect(problems).toEqual([]);
    await page.close();
  });

  it('a guest gets no Delete button, and the registry refuses the guest\'s delete', async () => {
    const { page, problems } = await guestSeesNoDelete();
    expect(problems).toEqual([]);
    await page.close();
  });

  it('a project admin creates a robot on the page, and skopeo pulls from start:aws with its secret', async (ctx) => {
    if (skopeoMissing()) return ctx.skip(skopeoMissing()!);
    const { page, problems } = await signedIn('alice');
    const secret = await createRobot(page, 'puller');
    await skopeoAsRobot(target, 'puller', async (inspect) => {
      expect(sha256(await inspect(secret))).toBe(image.index);
      await expect(inspect('not-the-secret')).rejects.toThrow(/401|unauthorized|authentication/i);
    });
    expect(problems).toEqual([]);
    await page.close();
  });
});
