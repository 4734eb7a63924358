// What the pull-through cache keeps in the metadata store besides content: fetch leases (one
// upstream fetch per manifest or blob, shared by every process and Lambda), and when each cached tag
// was last checked against the upstream.

export interface ProxyStateStore {
  /**
   * Takes the lease `key` for `holder` until `until` (epoch ms): applies when no lease is held, the
   * held one expired (`until` <= now: a dead leader's) or `holder` holds it (a renewal). One
   * conditional write; true when taken.
   */
  lease(key: string, holder: string, until: number, now: number): Promise<boolean>;
  /** Gives the lease up, if `holder` still holds it. */
  release(key: string, holder: string): Promise<void>;
  /** When the tag was last fetched or revalidated (epoch ms), if ever. */
  tagCheckedAt(repository: string, tag: string): Promise<number | undefined>;
  setTagChecked(repository: string, tag: string, at: number): Promise<void>;
}
