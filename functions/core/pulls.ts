// Last-pulled times of tags, for the retention rule "not pulled for D days" (core/gc/retention.ts).
// Recorded cheaply: a read by tag (GET or HEAD: containerd and Docker resolve a tag with HEAD, then
// GET by digest) already has the tag's recorded pull; only when that is from an earlier UTC day (or
// missing) does the handler make one conditional write, which applies only while the stored day is
// still older. So at most one write per tag per day, whatever the pull rate; a lost or failed write
// never fails the pull (the next pull that day tries again). docs/gc.md, "Retention".
import type { MetadataStore, TagUse } from './ports.ts';

export const DAY_MS = 86_400_000;

/** Epoch ms of the start of `at`'s UTC day. */
export const startOfDay = (at: number): number => Math.floor(at / DAY_MS) * DAY_MS;

/** `2026-10-01`: the UTC day of an epoch ms time. */
export const dayText = (at: number): string => new Date(startOfDay(at)).toISOString().slice(0, 10);

/** Whether a read by tag that saw `seen` should record a pull at `now`. */
export const pullIsNews = (seen: TagUse, now: number): boolean => seen.pulledAt === undefined || seen.pulledAt < startOfDay(now);

/** Records a pull of `repo:tag` (pointing at `seen.digest`) if none is recorded for today. Never throws. */
export async function notePull(metadata: MetadataStore, repo: string, tag: string, seen: TagUse & { digest: string }, now: number): Promise<void> {
  if (!pullIsNews(seen, now)) return;
  await metadata.recordPull(repo, tag, seen.digest, now).catch(() => undefined);
}
