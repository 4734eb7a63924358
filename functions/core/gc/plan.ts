// What a GC run decides for one repository, from a consistent-enough read of it (GcRepository): which
// manifests and links are needed, which are condemned (marked), which condemned ones may go now.
// Pure: no store call here (the run in run.ts applies the plan). docs/gc.md explains the rules.
import type { GcLink, GcManifest, GcRepository } from '../gc-ports.ts';

/** The time limits of one pass: nothing written after `cutoff` is touched. */
export interface GcWindow {
  /** Start of the pass minus the grace window: items written later are in flight, never garbage. */
  cutoff: number;
  /** Untagged manifests created later than this are kept (the untagged retention age, at least the grace). */
  untaggedCutoff: number;
}

/**
 * keep: needed (or too young to judge). mark: unneeded, condemned now. wait: condemned by an earlier
 * pass, not long enough ago (or something stored still refers to it). delete: condemned long enough
 * ago and still unneeded. unmark: condemned earlier but needed again.
 */
export type Verdict = 'keep' | 'mark' | 'wait' | 'delete' | 'unmark';

export interface Decision<T> {
  item: T;
  verdict: Verdict;
  reason: string;
}

export interface RepositoryPlan {
  manifests: Decision<GcManifest>[];
  links: Decision<GcLink>[];
}

/** The verdict for an unneeded item: mark it, or delete it once its mark is older than the cutoff. */
function condemned(markedAt: number | undefined, cutoff: number, deletable: boolean): Verdict {
  if (markedAt === undefined) return 'mark';
  return markedAt <= cutoff && deletable ? 'delete' : 'wait';
}

/**
 * Manifests: needed when tagged, young (created after the untagged cutoff: a push in flight PUTs its
 * children and referrers before or after it), a child of a needed index, or a referrer of a needed
 * subject. An unneeded manifest is deleted only while no stored manifest still lists it as a child
 * and its subject is gone: an index goes before its children, a subject before its referrers, so a
 * manifest that is stored always has what it refers to (a revived one included).
 * Links: needed while any stored manifest (needed or not) refers to the digest, or while younger than
 * the cutoff (a push uploads its blobs before the manifest that refers to them).
 */
export function planRepository(repo: GcRepository, w: GcWindow): RepositoryPlan {
  const byDigest = new Map(repo.manifests.map((m) => [m.digest, m]));
  const referrers = new Map<string, GcManifest[]>();
  const listedAsChild = new Set<string>();
  const referenced = new Set<string>();
  for (const m of repo.manifests) {
    if (m.subject !== undefined) referrers.set(m.subject, [...(referrers.get(m.subject) ?? []), m]);
    for (const d of m.manifests) {
      listedAsChild.add(d);
      referenced.add(d);
    }
    for (const d of m.blobs) referenced.add(d);
  }

  const needed = new Map<string, string>();
  const queue: string[] = [];
  const need = (digest: string, why: string) => {
    if (!byDigest.has(digest) || needed.has(digest)) return;
    needed.set(digest, why);
    queue.push(digest);
  };
  for (const [tag, { digest }] of repo.tags) need(digest, `tagged ${tag}`);
  for (const m of repo.manifests) if (m.createdAt > w.untaggedCutoff) need(m.digest, 'younger than the untagged retention');
  while (queue.length > 0) {
    const m = byDigest.get(queue.pop()!)!;
    for (const child of m.manifests) need(child, `child of ${m.digest}`);
    for (const r of referrers.get(m.digest) ?? []) need(r.digest, `referrer of ${m.digest}`);
  }

  const manifests = repo.manifests.map((m): Decision<GcManifest> => {
    const why = needed.get(m.digest);
    if (why !== undefined) return { item: m, verdict: m.markedAt === undefined ? 'keep' : 'unmark', reason: why };
    const blockers: string[] = [];
    if (listedAsChild.has(m.digest)) blockers.push('an index still lists it');
    if (m.subject !== undefined && byDigest.has(m.subject)) blockers.push('its subject is still stored');
    const verdict = condemned(m.markedAt, w.cutoff, blockers.length === 0);
    return { item: m, verdict, reason: ['untagged, unreachable from any tag', ...blockers].join('; ') };
  });

  const links = repo.links.map((l): Decision<GcLink> => {
    if (referenced.has(l.digest)) return { item: l, verdict: l.markedAt === undefined ? 'keep' : 'unmark', reason: 'a stored manifest refers to it' };
    if (l.linkedAt > w.cutoff) return { item: l, verdict: 'keep', reason: 'linked within the grace window' };
    return { item: l, verdict: condemned(l.markedAt, w.cutoff, true), reason: 'no stored manifest refers to it' };
  });
  return { manifests, links };
}
