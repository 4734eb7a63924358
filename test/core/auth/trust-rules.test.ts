// Trust rules (keyless CI): what each rule accepts and refuses, what it grants, and how one is made.
import { describe, expect, it } from 'vitest';
import { SqliteIdentityStore } from '../../../functions/adapters/sqlite/sqlite-identity.ts';
import { AdminError, createProject } from '../../../functions/core/auth/admin.ts';
import { GITHUB_ISSUER } from '../../../functions/core/auth/oidc.ts';
import { addTrustRule, refusal, removeTrustRule, ruleActions, type TrustRule } from '../../../functions/core/auth/trust-rules.ts';
import { GITHUB_CLAIMS } from '../../support/oidc-issuer.ts';

const rule = (extra: Partial<TrustRule> = {}): TrustRule => ({
  id: 'r1', project: 'team', issuer: GITHUB_ISSUER, repository: 'octo-org/app', repositoryOwnerId: '1001', repositoryId: '2002',
  actions: ['pull', 'push'], maxSeconds: 3600, created: 1, ...extra,
});
const claims = (extra: Record<string, unknown> = {}) => ({ iss: GITHUB_ISSUER, sub: 'repo:octo-org/app:ref:refs/heads/main', ...GITHUB_CLAIMS, ...extra });

describe('trust rule: what it accepts', () => {
  it('accepts the pinned owner and repository ids, whatever the names say', () => {
    expect(refusal(rule(), claims())).toBeUndefined();
    // A renamed repository keeps its ids: still accepted.
    expect(refusal(rule(), claims({ repository: 'octo-org/renamed', repository_owner: 'octo-renamed' }))).toBeUndefined();
  });

  it('refuses another owner with the same repository name (a taken-over name has other ids)', () => {
    expect(refusal(rule(), claims({ repository_owner_id: '7777' }))).toMatch(/repository_owner_id/);
    expect(refusal(rule(), claims({ repository_id: '8888' }))).toMatch(/repository_id/);
    // Ids as numbers (not GitHub's strings) or missing are refused too.
    expect(refusal(rule(), claims({ repository_owner_id: 1001 }))).toMatch(/repository_owner_id/);
    expect(refusal(rule(), claims({ repository_id: undefined }))).toMatch(/repository_id/);
  });

  it('refuses every pull-request event (a fork may run code there), and a token without event_name', () => {
    for (const event of ['pull_request', 'pull_request_target', 'pull_request_review', 'pull_request_review_comment']) {
      expect(refusal(rule(), claims({ event_name: event, ref: 'refs/pull/7/merge', head_ref: 'feature' }))).toMatch(/pull request/);
    }
    expect(refusal(rule(), claims({ event_name: undefined }))).toMatch(/event_name/);
    expect(refusal(rule(), claims({ event_name: 'workflow_dispatch' }))).toBeUndefined();
  });

  it('ref, environment and job_workflow_ref patterns: a wrong or missing value is refused', () => {
    const r = rule({ ref: 'refs/heads/main', environment: 'prod*', jobWorkflowRef: 'octo-org/app/.github/workflows/release.yml@*' });
    expect(refusal(r, claims({ environment: 'production' }))).toBeUndefined();
    expect(refusal(r, claims({ ref: 'refs/heads/feature' }))).toMatch(/ref "refs\/heads\/feature" does not match/);
    expect(refusal(r, claims({ environment: 'staging' }))).toMatch(/environment/);
    expect(refusal(r, claims({ environment: undefined }))).toMatch(/environment null/);
    expect(refusal(r, claims({ job_workflow_ref: 'octo-org/app/.github/workflows/evil.yml@refs/heads/main' }))).toMatch(/job_workflow_ref/);
    expect(refusal(rule({ ref: 'refs/tags/v*' }), claims({ ref: 'refs/tags/v1.2.3' }))).toBeUndefined();
  });

  it('refuses another issuer', () => {
    expect(refusal(rule(), claims({ iss: 'https://gitlab.example.com' }))).toBe('another issuer');
  });
});

describe('trust rule: what it grants', () => {
  it('its actions on its project only, narrowed by repository patterns', () => {
    expect(ruleActions(rule(), 'team/app')).toEqual(['pull', 'push']);
    expect(ruleActions(rule(), 'teamx/app')).toEqual([]);
    expect(ruleActions(rule(), 'other/app')).toEqual([]);
    const narrow = rule({ repositories: ['team/ci-*'] });
    expect(ruleActions(narrow, 'team/ci-tools')).toEqual(['pull', 'push']);
    expect(ruleActions(narrow, 'team/app')).toEqual([]);
  });
});

describe('trust rule: adding and removing', () => {
  it('needs the project and numeric ids; a bare branch name means refs/heads/<name>; the life is bounded', async () => {
    const store = new SqliteIdentityStore(':memory:');
    const opts = { github: 'octo-org/app', ownerId: '1001', repositoryId: '2002', actions: ['pull' as const, 'push' as const] };
    await expect(addTrustRule(store, 'team', opts)).rejects.toThrow(/no project team/);
    await createProject(store, 'team', false);
    await expect(addTrustRule(store, 'team', { ...opts, ownerId: 'octo-org' })).rejects.toBeInstanceOf(AdminError);
    await expect(addTrustRule(store, 'team', { ...opts, repositoryId: '' })).rejects.toThrow(/--repository-id/);
    await expect(addTrustRule(store, 'team', { ...opts, github: 'not a repo' })).rejects.toThrow(/owner\/name/);
    await expect(addTrustRule(store, 'team', { ...opts, maxSeconds: 10 })).rejects.toThrow(/5 minutes/);
    await expect(addTrustRule(store, 'team', { ...opts, repositories: ['other/*'] })).rejects.toThrow(/outside project team/);
    const r = await addTrustRule(store, 'team', { ...opts, ref: 'main' }, 5);
    expect(r).toMatchObject({ project: 'team', issuer: GITHUB_ISSUER, ref: 'refs/heads/main', maxSeconds: 3600, created: 5 });
    expect(r.id).toMatch(/^[0-9a-f]{12}$/);
    expect(await store.trustRulesFor(GITHUB_ISSUER, '2002')).toEqual([r]);
    await removeTrustRule(store, 'team', r.id);
    await expect(removeTrustRule(store, 'team', r.id)).rejects.toThrow(/no trust rule/);
    expect(await store.trustRulesFor(GITHUB_ISSUER, '2002')).toEqual([]);
  });
});
