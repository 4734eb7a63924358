// AuditLog in the single table. An entry is one item in its project's partition, sorted by time:
//   pk `AUDIT#P#<project>` ('' for registry-wide entries: logins, users, system robots), sk the
//   entry's id (`<ISO time>#<sequence><process tag>`), `e` the entry as JSON, `ttl` its expiry.
// A project's entries since a time are one Query (`sk >= <ISO time>`, newest first), never a scan.
// Every project that has entries is listed in `AUDIT#PROJECTS` / `P#<project>` (`P#` alone for ''), written once per
// project by each process (kept in memory after), so `audit list` without --project queries each
// partition in turn. Writes are UpdateItem (a replica region's role may write `AUDIT#` items with that
// call only; entries have unique keys, so writes from two regions never meet). DynamoDB's TTL
// deletes an entry `retentionDays` after it was written (typically within days after). A push's entry
// is written in the manifest put's own TransactWriteItems (dynamo-manifests.ts): one request less per push.
import { QueryCommand, UpdateCommand, type DynamoDBDocumentClient, type UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import { DEFAULT_AUDIT_RETENTION_DAYS, type AuditEntry, type AuditLog, type AuditQuery } from '../../core/audit.ts';
import { AUDIT_PK_PREFIX } from './keys.ts';
import { TTL_ATTRIBUTE } from './table.ts';

const projectPk = (project: string) => `${AUDIT_PK_PREFIX}P#${project}`;
const PROJECTS_PK = `${AUDIT_PK_PREFIX}PROJECTS`;

/** An UpdateItem of an entry, fit both for UpdateCommand and for a TransactWriteItems item. */
type AuditWrite = Required<Pick<UpdateCommandInput, 'TableName' | 'Key' | 'UpdateExpression' | 'ExpressionAttributeValues'>> & Pick<UpdateCommandInput, 'ExpressionAttributeNames'>;

export class DynamoAuditLog implements AuditLog {
  readonly #doc: DynamoDBDocumentClient;
  readonly #table: string;
  readonly #retentionSeconds: number;
  readonly #known = new Set<string>();

  constructor(doc: DynamoDBDocumentClient, table: string, opts: { retentionDays?: number } = {}) {
    this.#doc = doc;
    this.#table = table;
    this.#retentionSeconds = (opts.retentionDays ?? DEFAULT_AUDIT_RETENTION_DAYS) * 86_400;
  }

  /** The entry's item as an update (also the project's listing, unless this process wrote it). */
  #writes(entry: AuditEntry): AuditWrite[] {
    const item: AuditWrite = {
      TableName: this.#table,
      Key: { pk: projectPk(entry.project), sk: entry.id },
      UpdateExpression: 'SET e = :e, #ttl = :ttl',
      ExpressionAttributeNames: { '#ttl': TTL_ATTRIBUTE },
      ExpressionAttributeValues: { ':e': JSON.stringify(entry), ':ttl': Math.ceil(entry.time / 1000) + this.#retentionSeconds },
    };
    if (this.#known.has(entry.project)) return [item];
    return [item, { TableName: this.#table, Key: { pk: PROJECTS_PK, sk: `P#${entry.project}` }, UpdateExpression: 'SET seen = :t', ExpressionAttributeValues: { ':t': entry.time } }];
  }

  async append(entry: AuditEntry): Promise<void> {
    await Promise.all(this.#writes(entry).map((w) => this.#doc.send(new UpdateCommand(w))));
    this.#known.add(entry.project);
  }

  /**
   * The writes of append(entry) as TransactWriteItems items (Update, as append: a replica's role may
   * make only that call on these items), for a caller that writes the entry in its own transaction
   * (a manifest put); it calls appended(entry) once that transaction has succeeded.
   */
  transactItems(entry: AuditEntry): { Update: AuditWrite }[] {
    return this.#writes(entry).map((Update) => ({ Update }));
  }

  appended(entry: AuditEntry): void {
    this.#known.add(entry.project);
  }

  async list(q: AuditQuery): Promise<AuditEntry[]> {
    const out: AuditEntry[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.#doc.send(new QueryCommand({
        TableName: this.#table,
        KeyConditionExpression: q.since === undefined ? 'pk = :pk' : 'pk = :pk AND sk >= :since',
        ExpressionAttributeValues: { ':pk': projectPk(q.project), ...(q.since === undefined ? {} : { ':since': new Date(q.since).toISOString() }) },
        ScanIndexForward: false,
        ConsistentRead: true,
        Limit: q.limit - out.length,
        ...(start ? { ExclusiveStartKey: start } : {}),
      }));
      for (const item of page.Items ?? []) out.push(JSON.parse(String(item.e)) as AuditEntry);
      start = page.LastEvaluatedKey;
    } while (start && out.length < q.limit);
    return out;
  }

  async projects(): Promise<string[]> {
    const names: string[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.#doc.send(new QueryCommand({
        TableName: this.#table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': PROJECTS_PK }, ConsistentRead: true, ...(start ? { ExclusiveStartKey: start } : {}),
      }));
      for (const item of page.Items ?? []) names.push(String(item.sk).slice(2));
      start = page.LastEvaluatedKey;
    } while (start);
    return names;
  }
}
