// Records every call an AWS SDK v3 client sends: the operation, the resources it names (bucket and
// key, table and index, the tables and item actions of a batch or transaction) and the HTTP status
// it ended with. For the test that holds each process's calls against its IAM policy as deployed
// (test/infra/iam-vs-calls.test.ts); used by tests in their own process and, with
// REGISTRY_CALL_COUNTS=on, by the ingest service (served on /healthz/calls). Off in deployments.
import type { CountableClient } from './call-counter.ts';

export interface CallRecord {
  operation: string;
  bucket?: string;
  key?: string;
  /** CopyObject's source, `bucket/key`. */
  copySource?: string;
  /** Every table the call touches, with the IAM actions it takes there (a transaction: one per kind of item). */
  tables?: { table: string; index?: string; actions: string[] }[];
  /** HTTP status of the last attempt; undefined when no answer came. */
  status?: number;
}

export interface CallRecorder {
  readonly records: CallRecord[];
  reset(): void;
  detach(): void;
}

type Input = Record<string, unknown>;

/** The tables and per-table item actions of a DynamoDB input. */
function tablesOf(operation: string, input: Input): CallRecord['tables'] {
  if (typeof input.TableName === 'string') {
    return [{ table: input.TableName, ...(typeof input.IndexName === 'string' ? { index: input.IndexName } : {}), actions: [operation] }];
  }
  if (input.RequestItems && typeof input.RequestItems === 'object') {
    return Object.keys(input.RequestItems as Record<string, unknown>).map((table) => {
      // IAM authorizes a batch by its own action, whatever the items.
      return { table, actions: [operation] };
    });
  }
  if (Array.isArray(input.TransactItems)) {
    const by = new Map<string, Set<string>>();
    for (const item of input.TransactItems as Input[]) {
      for (const [kind, body] of Object.entries(item)) {
        const table = (body as Input).TableName as string;
        const action = kind === 'Get' ? 'GetItem' : kind === 'ConditionCheck' ? 'ConditionCheckItem' : `${kind}Item`;
        by.set(table, (by.get(table) ?? new Set()).add(action));
      }
    }
    return [...by].map(([table, actions]) => ({ table, actions: [...actions] }));
  }
  return undefined;
}

let seq = 0;

export function recordCalls(client: CountableClient): CallRecorder {
  const records: CallRecord[] = [];
  const name = `recordCalls#${++seq}`;
  client.middlewareStack.add(
    (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: unknown) => {
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
    },
    { step: 'initialize', name, priority: 'high' },
  );
  return {
    records,
    reset: () => void records.splice(0),
    detach: () => void client.middlewareStack.remove(name),
  };
}
