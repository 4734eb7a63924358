// Docker token scopes (distribution docs/spec/auth/scope.md): `repository:<name>:pull,push`,
// `registry:catalog:*`; several in one `scope` parameter separated by spaces, or several parameters.
import type { Access, Action } from '../access.ts';

export interface RequestedAccess {
  type: 'repository' | 'registry';
  name: string;
  actions: string[];
}

const ACTIONS = new Set(['pull', 'push', 'delete', '*']);

/** Parses scope strings; what does not parse, or names an unknown type, is left out (never an error). */
export function parseScopes(values: readonly string[]): RequestedAccess[] {
  const out: RequestedAccess[] = [];
  for (const value of values) {
    for (const scope of value.split(' ')) {
      const first = scope.indexOf(':');
      const last = scope.lastIndexOf(':');
      if (first <= 0 || last === first) continue;
      const type = scope.slice(0, first).replace(/\(.*\)$/, '');
      const name = scope.slice(first + 1, last);
      const actions = scope.slice(last + 1).split(',').filter((a) => ACTIONS.has(a));
      if ((type !== 'repository' && type !== 'registry') || name === '' || actions.length === 0) continue;
      out.push({ type, name, actions });
    }
  }
  return out;
}

/** The scope string of an access, as a challenge names it. */
export function scopeOf(access: Access): string {
  return `${access.type}:${access.name}:${access.actions.join(',')}`;
}

/** `*` on a repository is every action. */
export function expandActions(actions: readonly string[]): Action[] {
  const set = new Set<Action>();
  for (const a of actions) {
    if (a === '*') for (const x of ['pull', 'push', 'delete'] as const) set.add(x);
    else if (a === 'pull' || a === 'push' || a === 'delete') set.add(a);
  }
  return [...set];
}
