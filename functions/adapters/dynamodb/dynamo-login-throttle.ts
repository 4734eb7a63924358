// Failed logins counted in the table, shared by every API Lambda container and region: one item per
// user name and per client address and fixed window (pk `LOGIN#u:<name>` / `LOGIN#a:<address>`, sk
// the window's start), its count raised by an atomic ADD on each failure and gone by TTL after the
// window. A login reads the two items of the current window (2 GetItem, in parallel) before any
// password hash is computed; a failure writes them (2 UpdateItem). Fixed windows: at a window's turn
// a guesser may fit up to twice the limit into one window's length; the limits are set with that in
// mind. Replica regions write these items too (global table: counts from two regions at once may
// lose an increment to last-writer-wins, which a throttle can afford); their role may write `LOGIN#`
// items only (infra/constructs/grants.ts).
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DEFAULT_LIMITS, type LoginThrottle, type ThrottleLimits } from '../../core/auth/login-throttle.ts';
import { LOGIN_PK_PREFIX } from './keys.ts';
import { TTL_ATTRIBUTE } from './table.ts';
/** Names and addresses are the client's: cut to a bounded key. */
const part = (v: string) => v.slice(0, 256);

export class DynamoLoginThrottle implements LoginThrottle {
  readonly #doc: DynamoDBDocumentClient;
  readonly #table: string;
  readonly #limits: ThrottleLimits;

  constructor(doc: DynamoDBDocumentClient, table: string, limits: ThrottleLimits = DEFAULT_LIMITS) {
    this.#doc = doc;
    this.#table = table;
    this.#limits = limits;
  }

  #keys(user: string, address: string, now: number): { key: { pk: string; sk: string }; limit: number; windowEnd: number }[] {
    const start = now - (now % this.#limits.windowMs);
    const sk = String(start);
    const windowEnd = start + this.#limits.windowMs;
    return [
      { key: { pk: `${LOGIN_PK_PREFIX}u:${part(user)}`, sk }, limit: this.#limits.perUser, windowEnd },
      { key: { pk: `${LOGIN_PK_PREFIX}a:${part(address)}`, sk }, limit: this.#limits.perAddress, windowEnd },
    ];
  }

  async retryAfter(user: string, address: string, now = Date.now()): Promise<number> {
    const counts = await Promise.all(this.#keys(user, address, now).map(async (k) => {
      const out = await this.#doc.send(new GetCommand({ TableName: this.#table, Key: k.key, ConsistentRead: true, ProjectionExpression: 'n' }));
      return { count: (out.Item?.n as number | undefined) ?? 0, ...k };
    }));
    const wait = Math.max(0, ...counts.filter((c) => c.count >= c.limit).map((c) => c.windowEnd - now));
    return Math.ceil(wait / 1000);
  }

  async failed(user: string, address: string, now = Date.now()): Promise<void> {
    await Promise.all(this.#keys(user, address, now).map((k) => this.#doc.send(new UpdateCommand({
      TableName: this.#table, Key: k.key,
      UpdateExpression: 'ADD n :one SET #ttl = :ttl',
      ExpressionAttributeNames: { '#ttl': TTL_ATTRIBUTE },
      ExpressionAttributeValues: { ':one': 1, ':ttl': Math.ceil(k.windowEnd / 1000) + 60 },
    }))));
  }
}
