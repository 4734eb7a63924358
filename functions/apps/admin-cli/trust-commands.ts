// `npm run admin -- trust ...` (keyless CI: OIDC trust rules of a project) and `token ...` (users'
// personal access tokens, shown once).
import { parseActions } from '../../core/auth/admin.ts';
import { createAccessToken, publicAccessToken, revokeAccessToken } from '../../core/auth/access-tokens.ts';
import { addTrustRule, publicTrustRule, removeTrustRule } from '../../core/auth/trust-rules.ts';
import { arg, str, UsageError, type Command, type Invocation } from './command-args.ts';

/** `30m`, `1h`, `12h`: the longest a CI job's registry session may last. */
function parseLife(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const m = /^(\d{1,4})([mh])$/.exec(text);
  if (!m) throw new UsageError(`--life ${JSON.stringify(text)}: minutes or hours (30m, 1h, 12h)`);
  return Number(m[1]) * (m[2] === 'h' ? 3600 : 60);
}

function need(inv: Invocation, option: string): string {
  const v = str(inv.options[option]);
  if (v === undefined) throw new UsageError(`--${option} is required`);
  return v;
}

type Commands = Record<string, { usage: string; run: Command }>;

export const TRUST_COMMANDS: Commands = {
  add: {
    usage: 'trust add <project> --github <owner/repo> --owner-id <id> --repository-id <id> [--ref main|refs/tags/v*] [--environment P] [--workflow P] [--actions pull,push] [--repositories P,...] [--life 1h]',
    run: async (inv) => {
      const optional = (option: string, key: string) => (str(inv.options[option]) !== undefined ? { [key]: str(inv.options[option]) } : {});
      const repositories = str(inv.options.repositories)?.split(',').filter(Boolean);
      const maxSeconds = parseLife(str(inv.options.life));
      const rule = await addTrustRule(inv.store, arg(inv, 0, 'project'), {
        github: need(inv, 'github'),
        ownerId: need(inv, 'owner-id'),
        repositoryId: need(inv, 'repository-id'),
        ...optional('ref', 'ref'),
        ...optional('environment', 'environment'),
        ...optional('workflow', 'jobWorkflowRef'),
        actions: parseActions(str(inv.options.actions) ?? 'pull,push'),
        ...(repositories ? { repositories } : {}),
        ...(maxSeconds !== undefined ? { maxSeconds } : {}),
      });
      return publicTrustRule(rule);
    },
  },
  list: { usage: 'trust list <project>', run: async (inv) => ({ rules: (await inv.store.listTrustRules(arg(inv, 0, 'project'))).map(publicTrustRule) }) },
  remove: { usage: 'trust remove <project> <rule id>', run: async (inv) => removeTrustRule(inv.store, arg(inv, 0, 'project'), arg(inv, 1, 'rule id')) },
};

export const TOKEN_COMMANDS: Commands = {
  create: {
    usage: 'token create <user> <name> [--expires 90d|12h|never]   (prints the token once)',
    run: async (inv) => {
      const { token, text } = await createAccessToken(inv.store, arg(inv, 0, 'user'), arg(inv, 1, 'token name'), str(inv.options.expires));
      return { user: token.user, name: token.name, token: text, expiresAt: publicAccessToken(token).expiresAt };
    },
  },
  list: { usage: 'token list <user>', run: async (inv) => ({ tokens: (await inv.store.listAccessTokens(arg(inv, 0, 'user'))).map(publicAccessToken) }) },
  revoke: { usage: 'token revoke <user> <name>', run: async (inv) => publicAccessToken(await revokeAccessToken(inv.store, arg(inv, 0, 'user'), arg(inv, 1, 'token name'))) },
};
