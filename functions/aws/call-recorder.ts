// Records every call an AWS SDK v3 client sends: the operation, the resources it names (bucket and
// key, table and index, the tables and item actions of a batch or transaction) and the HTTP status
// it ended with. For the test that holds each process's calls against its IAM policy as deployed
// (test/infra/iam-vs-calls.test.ts); used by tests in their own process and, with
// REGISTRY_CALL_COUNTS=on, by the ingest service (served on /healthz/calls). Off in deployments.
import { stacksOf, type CountableClient } from './call-counter.ts';

export interface CallRecord {
  operation: string;
  bucket?: string;
  key?: string;
  /** CopyObject's source, `bucket/key`. */
  copySource?: string;
  /**
   * Every table the call touches, with the IAM actions it takes there (a transaction: one per kind of
   * item) and the partition keys of the items it names (IAM's dynamodb:LeadingKeys; absent for a
   * Query or Scan, whose keys this record does not read).
   */
  tables?: { table: string; index?: string; actions: string[]; leadingKeys?: string[] }[];
  /** HTTP status of the last attempt; undefined when no answer came. */
  status?: number;
}

export interface CallRecorder {
  readonly records: CallRecord[];
  reset(): void;
  detach(): void;
}

type Input = Record<string, unknown>;

/** The `pk` of an item or key, marshalled ({S: "..."}) or not. */
function pkOf(item: unknown): string | undefined {
  const pk = (item as { pk?: unknown } | undefined)?.pk;
  if (typeof pk === 'string') return pk;
  const s = (pk as { S?: unknown } | undefined)?.S;
  return typeof s === 'string' ? s : undefined;
}

/** The tables, per-table item actions and partition keys of a DynamoDB input. */
function tablesOf(operation: string, input: Input): CallRecord['tables'] {
  if (typeof input.TableName === 'string') {
    const pk = pkOf(input.Key) ?? pkOf(input.Item);
    return [{ table: input.TableName, ...(typeof input.IndexName === 'string' ? { index: input.IndexName } : {}), actions: [operation], ...(pk !== undefined ? { leadingKeys: [pk] } : {}) }];
  }
  if (input.RequestItems && typeof input.RequestItems === 'object') {
    return Object.entries(input.RequestItems as Record<string, { Keys?: unknown[] }>).map(([table, req]) => {
      // IAM authorizes a batch by its own action, whatever the items.
      const keys = (req.Keys ?? []).map(pkOf).filter((k): k is string => k !== undefined);
      return { table, actions: [operation], ...(keys.length > 0 ? { leadingKeys: keys } : {}) };
    });
  }
  if (Array.isArray(input.TransactItems)) {
    const by = new Map<string, { actions: Set<string>; keys: string[] }>();
    for (const item of input.TransactItems as Input[]) {
      for (const [kind, body] of Object.entries(item)) {
        const b = body as Input;
        const table = b.TableName as string;
        const action = kind === 'Get' ? 'GetItem' : kind === 'ConditionCheck' ? 'ConditionCheckItem' : `${kind}Item`;
        const entry = by.get(table) ?? { actions: new Set<string>(), keys: [] };
        entry.actions.add(action);
        const pk = pkOf(b.Key) ?? pkOf(b.Item);
        if (pk !== undefined) entry.keys.push(pk);
        by.set(table, entry);
      }
    }
    return [...by].map(([table, e]) => ({ table, actions: [...e.actions], ...(e.keys.length > 0 ? { leadingKeys: e.keys } : {}) }));
  }
  return undefined;
}

let seq = 0;

export function recordCalls(client: CountableClient): CallRecorder {
  const records: CallRecord[] = [];
  const name = `recordCalls#${++seq}`;
  const middleware = (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: unknown) => {
    const operation = (context.commandName ?? 'Unknown').replace(/Command$/, '');
    const input = ((args as { input?: Input }).input ?? {}) as Input;
    const record: CallRecord = { operation };
    if (typeof input.Bucket === 'string') record.bucket = input.Bucket;
    if (typeof input.Key === 'string') record.key = input.Key;
    if (typeof input.CopySource === 'string') record.copySource = decodeURIComponent(input.CopySource);
    const tables = tablesOf(operation, input);
    if (tables) record.tables = tables;
    records.push(record);
    try {
      const out = await next(args);
      record.status = (out as { response?: { statusCode?: number } }).response?.statusCode ?? 200;
      return out;
    } catch (e) {
      const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status !== undefined) record.status = status;
      throw e;
    }
  };
  const stacks = stacksOf(client);
  for (const c of stacks) c.middlewareStack.add(middleware, { step: 'initialize', name, priority: 'high' });
  return {
    records,
    reset: () => void records.splice(0),
    detach: () => {
      for (const c of stacks) c.middlewareStack.remove(name);
    },
  };
}
