// `npm run admin -- policy ...`: a project's tag policies. Immutability (tags that never move) and
// retention (rules by which GC runs remove tags, and protect patterns that keep them): docs/auth.md,
// docs/gc.md.
import { addImmutableRule, AdminError, removeImmutableRule } from '../../core/auth/admin.ts';
import type { RetentionRule } from '../../core/auth/model.ts';
import { addProtectRule, addRetentionRule, removeProtectRule, removeRetentionRule, retentionOf } from '../../core/auth/retention-admin.ts';
import { arg, UsageError, type Command, type Invocation } from './command-args.ts';
import type { Project } from '../../core/auth/model.ts';
import { parseSize, quotaOf, setQuota } from '../../core/auth/quota-admin.ts';
import type { ProjectUsage } from '../../core/quota-ports.ts';

/** A project's quota and, where the registry's metadata could be read, its usage. */
export function storageOf(p: Project, usage: ProjectUsage | undefined) {
  const { project: _, ...rest } = quotaOf(p, usage);
  return rest;
}

function addOrRemove(inv: Invocation, usage: string): boolean {
  const op = arg(inv, 0, 'add or remove');
  if (op !== 'add' && op !== 'remove') throw new UsageError(usage);
  return op === 'add';
}

const scopeOf = (inv: Invocation) => ({ repositories: arg(inv, 2, 'repositories pattern'), tags: arg(inv, 3, 'tags pattern') });

/** `30d` or `30`: whole days. */
function days(flag: string, v: string): number {
  const m = /^(\d{1,6})d?$/.exec(v);
  if (!m) throw new UsageError(`--${flag} takes whole days, such as 30d, got ${JSON.stringify(v)}`);
  return Number(m[1]);
}

/** The rule of `policy retention add|remove`: its scope and exactly one of --keep, --older-than, --not-pulled. */
function retentionRule(inv: Invocation): RetentionRule {
  const given = (['keep', 'older-than', 'not-pulled'] as const).filter((k) => typeof inv.options[k] === 'string');
  if (given.length !== 1) throw new UsageError('give exactly one of --keep N, --older-than 30d, --not-pulled 30d');
  const v = inv.options[given[0]!] as string;
  if (given[0] === 'keep') {
    if (!/^\d{1,6}$/.test(v)) throw new UsageError(`--keep takes a whole number, got ${JSON.stringify(v)}`);
    return { ...scopeOf(inv), keep: Number(v) };
  }
  return given[0] === 'older-than' ? { ...scopeOf(inv), olderThanDays: days('older-than', v) } : { ...scopeOf(inv), notPulledDays: days('not-pulled', v) };
}

const IMMUTABLE_USAGE = "policy immutable add|remove <project> <repositories pattern> <tags pattern>   (e.g. 'team/*' 'v*'; '*' is any run of characters)";
const RETENTION_USAGE = 'policy retention add|remove <project> <repositories pattern> <tags pattern> --keep N | --older-than 30d | --not-pulled 30d   (GC runs remove the tags a rule covers)';
const QUOTA_USAGE = 'policy quota <project> <size|none>   (e.g. 10GiB, 500MB; pushes beyond it are refused; none removes it)';
const PROTECT_USAGE = 'policy protect add|remove <project> <repositories pattern> <tags pattern>   (tags no retention rule removes)';

export const POLICY_COMMANDS: Record<string, { usage: string; run: Command }> = {
  show: { usage: 'policy show <project>', run: async (inv) => {
    const name = arg(inv, 0, 'project');
    const project = await inv.store.getProject(name);
    if (!project) throw new AdminError(`no project ${name}`);
    const { retention, retentionProtect } = retentionOf(project);
    return { project: name, immutableTags: project.immutableTags ?? [], retention, retentionProtect, ...storageOf(project, await inv.usage?.(name)) };
  } },
  quota: {
    usage: QUOTA_USAGE,
    run: async (inv) => {
      const name = arg(inv, 0, 'project');
      const size = arg(inv, 1, 'size or none');
      const project = await setQuota(inv.store, name, size === 'none' ? undefined : parseSize(size));
      return quotaOf(project, await inv.usage?.(name));
    },
  },
  immutable: {
    usage: IMMUTABLE_USAGE,
    run: async (inv) => {
      const add = addOrRemove(inv, 'policy immutable add|remove');
      const project = await (add ? addImmutableRule : removeImmutableRule)(inv.store, arg(inv, 1, 'project'), scopeOf(inv));
      return { project: project.name, immutableTags: project.immutableTags ?? [] };
    },
  },
  retention: {
    usage: RETENTION_USAGE,
    run: async (inv) => {
      const add = addOrRemove(inv, 'policy retention add|remove');
      return retentionOf(await (add ? addRetentionRule : removeRetentionRule)(inv.store, arg(inv, 1, 'project'), retentionRule(inv)));
    },
  },
  protect: {
    usage: PROTECT_USAGE,
    run: async (inv) => {
      const add = addOrRemove(inv, 'policy protect add|remove');
      return retentionOf(await (add ? addProtectRule : removeProtectRule)(inv.store, arg(inv, 1, 'project'), scopeOf(inv)));
    },
  },
};
