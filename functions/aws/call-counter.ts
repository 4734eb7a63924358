// Counts the calls an AWS SDK v3 client makes, by operation, with a middleware: `calls` counts each
// command sent (a round trip as the code sees it), `attempts` each HTTP request (retries included).
// Used by the round-trip tests and the benches, in their own process and, with REGISTRY_CALL_COUNTS=on,
// in the ingest service (which serves the counts on /healthz/calls); off in deployments.

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
  client.middlewareStack.add(
    ((next, context) => async (args) => {
      bump(calls, operation(context));
      return next(args);
    }) satisfies Middleware,
    { step: 'initialize', name: callName, priority: 'high' },
  );
  client.middlewareStack.add(
    ((next, context) => async (args) => {
      bump(attempts, operation(context));
      return next(args);
    }) satisfies Middleware,
    // Below the retry middleware (finalizeRequest, high priority): runs once per HTTP attempt.
    { step: 'finalizeRequest', name: attemptName, priority: 'low' },
  );
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
      client.middlewareStack.remove(callName);
      client.middlewareStack.remove(attemptName);
    },
  };
}
