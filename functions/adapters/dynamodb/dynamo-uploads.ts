// Upload sessions: one item each under `U#<id>`, found by key (never listed). DynamoDB TTL deletes
// an expired item some time after its `ttl`; until then reads treat it as absent.
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { UploadLease, UploadSession } from '../../core/ports.ts';
import type { DynamoOps } from './dynamo-ops.ts';
import { toUpload, ttlSeconds, uploadItem, type Item } from './items.ts';
import { uploadKey } from './keys.ts';

const isConditionFailure = (err: unknown) =>
  err instanceof ConditionalCheckFailedException || (err as { name?: string }).name === 'ConditionalCheckFailedException';

/** Attribute names used in upload expressions (several are DynamoDB reserved words). */
const N = {
  '#pk': 'pk', '#off': 'off', '#state': 'state', '#updated': 'updated', '#expires': 'expires', '#ttl': 'ttl', '#lh': 'lh', '#lu': 'lu',
};
function names(expression: string): Record<string, string> {
  return Object.fromEntries(Object.entries(N).filter(([k]) => expression.includes(k)));
}

/** From a failed takeUpload/claimUpload: a live lease (busy at the recorded size) or no session. */
function busyOrGone(err: unknown, now: number): { busyAt: number } | undefined {
  // The item as it was, in DynamoDB's wire format (the document client does not convert errors).
  const old = (err as { Item?: Record<string, { N?: string }> }).Item;
  const expires = Number(old?.expires?.N ?? 0);
  const offset = old?.off?.N;
  if (old === undefined || offset === undefined || expires <= now) return undefined;
  return { busyAt: Number(offset) };
}

export class DynamoUploads {
  private readonly ops: DynamoOps;
  private readonly now: () => number;

  constructor(ops: DynamoOps, now: () => number) {
    this.ops = ops;
    this.now = now;
  }

  private expired(item: Item): boolean {
    return this.now() > (item.expires as number);
  }

  /** 1 PutItem. */
  async createUpload(session: UploadSession): Promise<void> {
    await this.ops.doc.send(new PutCommand({
      TableName: this.ops.table,
      Item: uploadItem(session),
      ConditionExpression: 'attribute_not_exists(#pk)',
      ExpressionAttributeNames: names('#pk'),
    }));
  }

  /** 1 GetItem (consistent). */
  async getUpload(id: string): Promise<UploadSession | undefined> {
    const { Item: item } = await this.ops.doc.send(new GetCommand({ TableName: this.ops.table, Key: uploadKey(id), ConsistentRead: true }));
    return item === undefined || this.expired(item) ? undefined : toUpload(item);
  }

  /** 1 conditional UpdateItem; the holder of a live lease renews it. */
  async leaseUpload(id: string, expectedOffset: number, lease: UploadLease, now: number): Promise<boolean> {
    const condition = 'attribute_exists(#pk) AND #off = :off AND #expires > :now AND (attribute_not_exists(#lu) OR #lu <= :now OR #lh = :h)';
    return this.conditional(id, 'SET #lh = :h, #lu = :u', condition, { ':off': expectedOffset, ':now': now, ':h': lease.holder, ':u': lease.until });
  }

  /**
   * 1 conditional UpdateItem returning the session as leased; when the condition fails, the item as
   * it was comes back with the failure (no second read) and tells a live lease from no session.
   */
  async takeUpload(id: string, lease: UploadLease, now: number): Promise<UploadSession | { busyAt: number } | undefined> {
    const condition = 'attribute_exists(#pk) AND #expires > :now AND (attribute_not_exists(#lu) OR #lu <= :now)';
    try {
      const out = await this.ops.doc.send(new UpdateCommand({
        ...this.update(id, 'SET #lh = :h, #lu = :u', condition, { ':now': now, ':h': lease.holder, ':u': lease.until }),
        ReturnValues: 'ALL_NEW',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }));
      return toUpload(out.Attributes as Item);
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      return busyOrGone(err, now);
    }
  }

  /**
   * 1 conditional DeleteItem returning the session as it was: the finishing request takes the session
   * out of the table (no other request can lease it, and no session delete is left for the end). The
   * same conditions and answers as takeUpload.
   */
  async claimUpload(id: string, now: number): Promise<UploadSession | { busyAt: number } | undefined> {
    try {
      const out = await this.ops.doc.send(new DeleteCommand({
        TableName: this.ops.table,
        Key: uploadKey(id),
        ConditionExpression: 'attribute_exists(#pk) AND #expires > :now AND (attribute_not_exists(#lu) OR #lu <= :now)',
        ExpressionAttributeNames: names('#pk #expires #lu'),
        ExpressionAttributeValues: { ':now': now },
        ReturnValues: 'ALL_OLD',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }));
      const { lh: _holder, lu: _until, ...session } = out.Attributes as Item;
      return toUpload(session);
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      return busyOrGone(err, now);
    }
  }

  /** 1 conditional UpdateItem: applies only while `holder` is the recorded lease holder. */
  async updateUpload(id: string, holder: string, next: Pick<UploadSession, 'offset' | 'state' | 'updatedAt' | 'expiresAt'>): Promise<boolean> {
    const update = 'SET #off = :off, #state = :state, #updated = :updated, #expires = :expires, #ttl = :ttl REMOVE #lh, #lu';
    return this.conditional(id, update, '#lh = :h', {
      ':h': holder, ':off': next.offset, ':state': next.state, ':updated': next.updatedAt,
      ':expires': next.expiresAt, ':ttl': ttlSeconds(next.expiresAt),
    });
  }

  /** 1 conditional UpdateItem; a lease held by another (or none) is left alone. */
  async releaseUpload(id: string, holder: string): Promise<void> {
    await this.conditional(id, 'REMOVE #lh, #lu', '#lh = :h', { ':h': holder });
  }

  /** 1 DeleteItem; an expired session counts as absent (but its item is deleted all the same). */
  async deleteUpload(id: string): Promise<boolean> {
    const { Attributes: old } = await this.ops.doc.send(new DeleteCommand({ TableName: this.ops.table, Key: uploadKey(id), ReturnValues: 'ALL_OLD' }));
    return old !== undefined && !this.expired(old);
  }

  /** The input of a conditional update of session `id` (attribute names derived from the expressions). */
  private update(id: string, update: string, condition: string, values: Record<string, unknown>) {
    return {
      TableName: this.ops.table,
      Key: uploadKey(id),
      UpdateExpression: update,
      ConditionExpression: condition,
      ExpressionAttributeNames: names(condition + update),
      ExpressionAttributeValues: values,
    };
  }

  /** Sends one conditional update of session `id`; false when its condition does not hold. */
  private async conditional(id: string, update: string, condition: string, values: Record<string, unknown>): Promise<boolean> {
    try {
      await this.ops.doc.send(new UpdateCommand(this.update(id, update, condition, values)));
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }
}
