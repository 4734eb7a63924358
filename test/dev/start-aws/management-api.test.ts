// The management API in the AWS shape: start:aws with token auth, through the CloudFront and API
// Gateway emulation into the API Lambda, identities in DynamoDB Local: the shared cases of
// test/support/management-scenario.ts (with quota-scenario.ts and repository-summary-scenario.ts), and CloudFront never keeps an answer of it.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startAwsLocal, type AwsLocal } from '../../../dev/start-aws/start.ts';
import { quotaScenario } from '../../support/quota-scenario.ts';
import { managementScenario } from '../../support/management-scenario.ts';
import { seedIdentities } from '../../support/management-client.ts';
import { recordPulls, repositorySummaryScenario } from '../../support/repository-summary-scenario.ts';

let local: AwsLocal;
let seeded: { robotSecret: string };

beforeAll(async () => {
  local = await startAwsLocal({ host: '127.0.0.1', port: 0, ingest: false, auth: true });
  seeded = await seedIdentities(local.deps.identity);
}, 90_000);

afterAll(async () => {
  await local?.close();
});

managementScenario(() => local, () => seeded);
quotaScenario(() => local);
repositorySummaryScenario(() => local, (repository, count) => recordPulls(local.deps.audit, repository, count));

it('CloudFront keeps nothing of /api/v1/: an anonymous list asked twice reaches the API twice', async () => {
  const hits = local.cdn.hits;
  const origins = async () => Object.values(((await (await fetch(`${local.url}/_local/stats`)).json()) as { apiOrigins: Record<string, number> }).apiOrigins).reduce((a, b) => a + b, 0);
  const before = await origins();
  for (let i = 0; i < 2; i++) {
    const r = await fetch(`${local.url}/api/v1/projects`);
    expect(r.status).toBe(200);
    expect(r.headers.get('cache-control')).toBe('private, no-store');
    expect(r.headers.get('x-cache')).toBeNull();
  }
  expect(local.cdn.hits).toBe(hits);
  expect(await origins()).toBe(before + 2);
});
