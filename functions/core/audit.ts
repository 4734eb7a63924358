// The audit trail: who did what, when, from where. Pushes, tag and manifest deletes, blob deletes,
// mounts, logins (and failed ones), token exchanges and admin changes are entries in the audit store
// (SQLite on `npm start`, the DynamoDB table in AWS) and a structured log line each; pulls are a log
// line each and a count per repository, kept in the process and written once per window (never a
// write per pull). An entry never holds a secret: no password, token, secret or hash is ever passed in.
//
// A failed or slow audit write never fails or holds up what it records: the write is awaited (a
// Lambda may be frozen the moment it answers, so a write left running could be lost) for at most
// `writeTimeoutMs`, and a failure is logged (`audit write failed`, with the entry) and counted
// (`onWriteFailed`: a metric in AWS). The log line is written before the store is asked, so the
// entry is never lost altogether.

/** What an entry records. */
export type AuditAction =
  | 'push' | 'tag.delete' | 'manifest.delete' | 'blob.delete' | 'blob.mount'
  | 'login' | 'login.failed' | 'token.refresh'
  | 'pull.count'
  | `admin.${string}`;

export type AuditDetail = Record<string, string | number | boolean>;

export interface AuditEntry {
  /** Unique, and in time order within a millisecond's entries of one process. */
  id: string;
  /** Epoch milliseconds. */
  time: number;
  action: AuditAction;
  /** The subject: a user name, a robot name, `anonymous`; for a failed login the name tried. */
  actor: string;
  /** The client address as the server sees it (the socket's; the viewer's behind CloudFront). */
  address: string;
  /** The project the entry belongs to; '' for the registry as a whole (logins, users, system robots). */
  project: string;
  repository?: string;
  /** What it was done to: a tag, a digest, a user, a robot. */
  target?: string;
  detail?: AuditDetail;
}

export interface AuditQuery {
  /** One project's entries; '' the registry-wide ones. */
  project: string;
  /** Entries at or after this time (epoch ms). */
  since?: number;
  /** At most this many, newest first. */
  limit: number;
}

/** The port: an append-only log, read by project and time (no scan). */
export interface AuditLog {
  append(entry: AuditEntry): Promise<void>;
  /** One project's (or the registry-wide) entries, newest first. */
  list(query: AuditQuery): Promise<AuditEntry[]>;
  /** Every project that has entries ('' included when registry-wide ones exist). */
  projects(): Promise<string[]>;
}

/** How long an entry is kept (DynamoDB TTL in AWS, a prune on `npm start`) unless configured. */
export const DEFAULT_AUDIT_RETENTION_DAYS = 400;
/** Pull counts are written once per this window per repository and process, by the first pull or audited action after it (and when `npm start` stops). */
export const DEFAULT_PULL_FLUSH_MS = 60_000;
export const DEFAULT_AUDIT_WRITE_TIMEOUT_MS = 1000;

export type AuditLogLine = (level: 'info' | 'error', msg: string, fields: Record<string, string | number | boolean | undefined>) => void;

export interface AuditRecorderOptions {
  store: AuditLog;
  log: AuditLogLine;
  /** Counts a failed write (a metric); the log line is written anyway. */
  onWriteFailed?: (entry: AuditEntry, error: unknown) => void;
  now?: () => number;
  pullFlushMs?: number;
  writeTimeoutMs?: number;
}

export type NewAuditEntry = Omit<AuditEntry, 'id' | 'time' | 'project'> & { project?: string };

let sequence = 0;
const RANDOM = Math.random().toString(36).slice(2, 8);

/** A sortable id: time, then a per-process sequence and a process tag (entries of one ms stay apart). */
export function auditId(time: number): string {
  sequence = (sequence + 1) % 1_000_000;
  return `${new Date(time).toISOString()}#${String(sequence).padStart(6, '0')}${RANDOM}`;
}

/** The project of a repository name: its first path component. */
export const projectOfRepository = (repository: string): string => repository.split('/')[0] ?? repository;

const cut = (v: string, n = 256) => (v.length > n ? v.slice(0, n) : v);

export class AuditRecorder {
  readonly #opts: Required<Omit<AuditRecorderOptions, 'onWriteFailed'>> & Pick<AuditRecorderOptions, 'onWriteFailed'>;
  /** Pulls since the last flush: repository -> count. */
  #pulls = new Map<string, number>();
  #windowStart: number;
  #flushing: Promise<void> | undefined;
  /** Failed writes since the process started (the metric's source in tests). */
  writeFailures = 0;

  constructor(opts: AuditRecorderOptions) {
    this.#opts = { now: Date.now, pullFlushMs: DEFAULT_PULL_FLUSH_MS, writeTimeoutMs: DEFAULT_AUDIT_WRITE_TIMEOUT_MS, ...opts };
    this.#windowStart = this.#opts.now();
  }

  get store(): AuditLog {
    return this.#opts.store;
  }

  /** Logs the entry and writes it to the store; never throws, waits at most writeTimeoutMs. */
  async record(input: NewAuditEntry): Promise<void> {
    await this.settle(this.prepare(input), false);
  }

  /**
   * The entry `input` makes (id, time, project), not yet logged or written: for an action whose own
   * write can carry it (a manifest put writes its push entry in the same transaction). Pass it to
   * settle() once the action has succeeded.
   */
  prepare(input: NewAuditEntry): AuditEntry {
    const time = this.#opts.now();
    return {
      ...input,
      id: auditId(time),
      time,
      actor: cut(input.actor),
      address: cut(input.address, 64),
      project: input.project ?? (input.repository ? projectOfRepository(input.repository) : ''),
    };
  }

  /** Logs a prepared entry and, unless the action's own write `stored` it, writes it to the store. */
  async settle(entry: AuditEntry, stored: boolean): Promise<void> {
    this.#opts.log('info', 'audit', lineOf(entry));
    if (!stored) await this.#write(entry);
    // Any audited action after the window ends also writes the pull counts it holds.
    if (entry.action !== 'pull.count' && this.#due()) await this.flushPulls();
  }

  #due(): boolean {
    return this.#pulls.size > 0 && this.#opts.now() - this.#windowStart >= this.#opts.pullFlushMs;
  }

  async #write(entry: AuditEntry): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), this.#opts.writeTimeoutMs)));
    try {
      const written = this.#opts.store.append(entry).then(() => 'ok' as const, (e: unknown) => e);
      const outcome = await Promise.race([written, timeout]);
      if (outcome === 'timeout') {
        // Left running: it may still land. Counted as a failure, since it may not.
        this.#failed(entry, new Error(`no answer within ${this.#opts.writeTimeoutMs} ms`));
        void written.then((late) => late !== 'ok' && this.#opts.log('error', 'audit write failed late', { id: entry.id, error: String(late) }));
      } else if (outcome !== 'ok') this.#failed(entry, outcome);
    } finally {
      clearTimeout(timer);
    }
  }

  #failed(entry: AuditEntry, error: unknown): void {
    this.writeFailures++;
    this.#opts.log('error', 'audit write failed', { ...lineOf(entry), error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
    try {
      this.#opts.onWriteFailed?.(entry, error);
    } catch {
      // A metric that cannot be counted changes nothing here.
    }
  }

  /** A pull: one log line now; the count joins the repository's for this window (written when it ends). */
  async pulled(repository: string, reference: string, actor: string, address: string): Promise<void> {
    this.#opts.log('info', 'pull', { action: 'pull', repository, reference, actor: cut(actor), address: cut(address, 64) });
    this.#pulls.set(repository, (this.#pulls.get(repository) ?? 0) + 1);
    if (this.#due()) await this.flushPulls();
  }

  /** Writes the window's pull counts (one entry per repository pulled) and starts a new window. */
  async flushPulls(): Promise<void> {
    if (this.#flushing) return this.#flushing;
    const counts = this.#pulls;
    const from = this.#windowStart;
    this.#pulls = new Map();
    this.#windowStart = this.#opts.now();
    if (counts.size === 0) return;
    this.#flushing = Promise.all([...counts].map(([repository, count]) =>
      this.record({ action: 'pull.count', actor: 'registry', address: '', repository, detail: { count, from: new Date(from).toISOString() } }))).then(() => undefined);
    try {
      await this.#flushing;
    } finally {
      this.#flushing = undefined;
    }
  }
}

/** The structured log line of an entry: flat fields, the detail's among them. */
function lineOf(e: AuditEntry): Record<string, string | number | boolean | undefined> {
  return { ...e.detail, id: e.id, action: e.action, actor: e.actor, address: e.address, project: e.project, repository: e.repository, target: e.target };
}
