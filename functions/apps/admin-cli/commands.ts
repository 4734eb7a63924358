// The commands of `npm run admin`: each takes its positional arguments, options and a way to read a
// secret from stdin, and returns the one object it prints (as JSON with --json).
import { AlreadyExistsError } from '../../core/auth/identity-store.ts';
import { listAudit } from './audit-commands.ts';
import { createProxyFromOptions, PROXY_USAGE } from './proxy-options.ts';
import { TOKEN_COMMANDS, TRUST_COMMANDS } from './trust-commands.ts';
import {
  addUser, AdminError, createProject, publicProject, createRobot, parseActions, publicRobot, publicUser, revokeRobot, rotateRobot, setDisabled, setMember, setPassword, setVisibility,
} from '../../core/auth/admin.ts';
import { arg, str, UsageError, type Command, type Invocation } from './command-args.ts';
import { POLICY_COMMANDS, storageOf } from './policy-commands.ts';

export { UsageError, type Invocation };

export const COMMANDS: Record<string, Record<string, { usage: string; run: Command }>> = {
  user: {
    add: {
      usage: 'user add <name> [--admin] [--no-password]   (password on stdin; --no-password: signs in elsewhere, uses access tokens)',
      run: async (inv) => publicUser(await addUser(inv.store, arg(inv, 0, 'user name'), inv.options['no-password'] === true ? undefined : await inv.readSecret('password'), inv.options.admin === true)),
    },
    passwd: { usage: 'user passwd <name>   (password on stdin)', run: async (inv) => publicUser(await setPassword(inv.store, arg(inv, 0, 'user name'), await inv.readSecret('password'))) },
    disable: { usage: 'user disable <name>', run: async (inv) => publicUser(await setDisabled(inv.store, arg(inv, 0, 'user name'), true)) },
    enable: { usage: 'user enable <name>', run: async (inv) => publicUser(await setDisabled(inv.store, arg(inv, 0, 'user name'), false)) },
    list: { usage: 'user list', run: async (inv) => ({ users: (await inv.store.listUsers()).map(publicUser) }) },
  },
  project: {
    create: {
      usage: `project create <name> [--public] ${PROXY_USAGE}`,
      run: async (inv) => {
        const name = arg(inv, 0, 'project name');
        const isPublic = inv.options.public === true;
        return publicProject(typeof inv.options.proxy === 'string' ? await createProxyFromOptions(inv, name, isPublic) : await createProject(inv.store, name, isPublic));
      },
    },
    list: {
      usage: 'project list   (each with its storage quota and usage: quotaBytes, usedBytes, blobs)',
      run: async (inv) => ({ projects: await Promise.all((await inv.store.listProjects()).map(async (p) => ({ ...publicProject(p), ...storageOf(p, await inv.usage?.(p.name)) }))) }),
    },
    visibility: {
      usage: 'project visibility <name> public|private',
      run: async (inv) => {
        const v = arg(inv, 1, 'public or private');
        if (v !== 'public' && v !== 'private') throw new UsageError('visibility is public or private');
        const project = publicProject(await setVisibility(inv.store, arg(inv, 0, 'project name'), v === 'public'));
        if (!inv.purgeCdn) return project;
        // What the CDN keeps of the project's public answers goes too (a day at most otherwise).
        try {
          return { ...project, cdn: { purged: true, distribution: await inv.purgeCdn([`/v2/${project.name}/*`]) } };
        } catch (e) {
          return { ...project, cdn: { purged: false, error: (e as Error).message, fix: `aws cloudfront create-invalidation --distribution-id <id> --paths '/v2/${project.name}/*'` } };
        }
      },
    },
  },
  policy: POLICY_COMMANDS,
  member: {
    add: { usage: 'member add <project> <user> <guest|developer|maintainer|admin>', run: async (inv) => setMember(inv.store, arg(inv, 0, 'project'), arg(inv, 1, 'user'), arg(inv, 2, 'role')) },
    remove: { usage: 'member remove <project> <user>', run: async (inv) => setMember(inv.store, arg(inv, 0, 'project'), arg(inv, 1, 'user'), undefined) },
    list: { usage: 'member list <project>', run: async (inv) => ({ members: await inv.store.listMembers(arg(inv, 0, 'project')) }) },
  },
  robot: {
    create: {
      usage: 'robot create <project|--system> <name> --actions pull[,push,delete] [--repositories PATTERN,...] [--expires 90d|12h|never]',
      run: async (inv) => {
        const system = inv.options.system === true;
        const project = system ? undefined : arg(inv, 0, 'project');
        const name = arg(inv, system ? 0 : 1, 'robot name');
        const actions = str(inv.options.actions);
        if (!actions) throw new UsageError('--actions is required');
        const repositories = str(inv.options.repositories)?.split(',').filter(Boolean);
        const expires = str(inv.options.expires);
        const { robot, secret } = await createRobot(inv.store, project, name, { actions: parseActions(actions), ...(repositories ? { repositories } : {}), ...(expires ? { expires } : {}) });
        return { name: robot.name, secret, expiresAt: publicRobot(robot).expiresAt };
      },
    },
    rotate: {
      usage: 'robot rotate <robot name>',
      run: async (inv) => {
        const { robot, secret } = await rotateRobot(inv.store, arg(inv, 0, 'robot name'));
        return { name: robot.name, secret, expiresAt: publicRobot(robot).expiresAt };
      },
    },
    revoke: { usage: 'robot revoke <robot name>', run: async (inv) => publicRobot(await revokeRobot(inv.store, arg(inv, 0, 'robot name'))) },
    list: { usage: 'robot list [<project>]', run: async (inv) => ({ robots: (await inv.store.listRobots(inv.args[0])).map(publicRobot) }) },
  },
  audit: {
    list: {
      usage: 'audit list [--project <project>] [--since 24h|7d|2026-12-01T08:00:00Z] [--limit N]   (newest first; default 100)',
      run: async (inv) => {
        if (!inv.audit) throw new UsageError('no audit trail here');
        return listAudit(inv.audit, { project: str(inv.options.project), since: str(inv.options.since), limit: str(inv.options.limit) });
      },
    },
  },
  trust: TRUST_COMMANDS,
  token: TOKEN_COMMANDS,
};

export function usage(): string {
  return [
    'usage: npm run admin -- <command> [--json] [--aws --env <name> [--region <region>]]',
    '  (the data dir of npm start, REGISTRY_DATA_DIR; with --aws, the DynamoDB table of that cdk.json environment)',
    ...Object.values(COMMANDS).flatMap((group) => Object.values(group).map((c) => `  ${c.usage}`)),
  ].join('\n');
}

/** A failure a person can act on (the message says what), as opposed to a bug. */
export const isUserError = (e: unknown): boolean => e instanceof AdminError || e instanceof AlreadyExistsError || e instanceof UsageError;
