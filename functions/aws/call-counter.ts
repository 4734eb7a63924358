// Counts the calls an AWS SDK v3 client makes, by operation, with a middleware: `calls` counts each
// command sent (a round trip as the code sees it), `attempts` each HTTP request (retries included).
// A DynamoDB client's lean GetItems (adapters/dynamodb/get-item-client.ts) are counted with it.
// Used by the round-trip tests and the benches, in their own process and, with REGISTRY_CALL_COUNTS=on,
// in the ingest service (which serves the counts on /healthz/calls); off in deployments.

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { getItemClientOf } from '../adapters/dynamodb/get-item-client.ts';

export interface CallCounts {
  /** Commands sent, by operation name (e.g. `GetItem`). */
  readonly calls: Record<string, number>;
  /** HTTP requests made, by operation name, retries included. */
  readonly attempts: Record<string, number>;
  /** Total commands sent. */
  total(): number;
  /** Forgets all counts. */
  reset(): void;
  /** The counts as a plain object (a copy), for assertions and logs. */
  snapshot(): Record<string, number>;
  /** Stops counting. */
  detach(): void;
}

type Handler = (args: unknown) => Promise<unknown>;
type Middleware = (next: Handler, context: { commandName?: string }) => Handler;

/** Any SDK v3 client (DynamoDB, S3, a DynamoDBDocumentClient sharing its client's stack). */
export interface CountableClient {
  middlewareStack: {
    // The SDK declares one overload per step, generic over each client's input and output types; a
    // middleware that only passes them on fits all of them.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    add(middleware: any, options: any): void;
    remove(toRemove: string): boolean;
  };
}

/**
 * The middleware stacks a client's calls run through: a DynamoDB client's single-item reads go
 * through its GetItemClient (its own small stack), so what watches the client watches both.
 */
export function stacksOf(client: CountableClient): CountableClient[] {
  return client instanceof DynamoDBClient ? [client, getItemClientOf(client)] : [client];
}

let seq = 0;

function operation(context: { commandName?: string }): string {
  return (context.commandName ?? 'Unknown').replace(/Command$/, '');
}

export function countCalls(client: CountableClient): CallCounts {
  const calls: Record<string, number> = {};
  const attempts: Record<string, number> = {};
  const id = ++seq;
  const callName = `countCalls#${id}`;
  const attemptName = `countAttempts#${id}`;
  const bump = (into: Record<string, number>, name: string) => {
    into[name] = (into[name] ?? 0) + 1;
  };
  const counting = (into: Record<string, number>): Middleware => (next, context) => async (args) => {
    bump(into, operation(context));
    return next(args);
  };
  const stacks = stacksOf(client);
  for (const c of stacks) {
    c.middlewareStack.add(counting(calls), { step: 'initialize', name: callName, priority: 'high' });
    // Below the retry middleware (finalizeRequest, high priority): runs once per HTTP attempt.
    c.middlewareStack.add(counting(attempts), { step: 'finalizeRequest', name: attemptName, priority: 'low' });
  }
  const clear = (o: Record<string, number>) => {
    for (const k of Object.keys(o)) delete o[k];
  };
  return {
    calls,
    attempts,
    total: () => Object.values(calls).reduce((a, b) => a + b, 0),
    reset: () => {
      clear(calls);
      clear(attempts);
    },
    snapshot: () => ({ ...calls }),
    detach: () => {
      for (const c of stacks) {
        c.middlewareStack.remove(callName);
        c.middlewareStack.remove(attemptName);
      }
    },
  };
}
