// The events Lambda: S3 ObjectCreated notifications in, edge uploads recorded (record.ts). The ports
// come from `getDeps` (the AWS adapters in the deployed function, local adapters under start:aws).
// A record that could not be recorded fails the invocation after the whole batch was attempted, so
// Lambda's retries deliver it again; recording is idempotent, so the records that succeeded are safe
// to see twice.
import type { S3Event } from 'aws-lambda';
import { recordEdgeUploads, type EventDeps, type Outcome } from './record.ts';

export interface EventsSummary {
  recorded: number;
  duplicates: number;
  ignored: number;
}

export interface EventsHandlerOptions {
  /** One call per record with its outcome (for logs and metrics). */
  onOutcome?: (outcome: Outcome) => void;
}

export function createEventsHandler(getDeps: () => EventDeps | Promise<EventDeps>, opts: EventsHandlerOptions = {}): (event: S3Event) => Promise<EventsSummary> {
  return async (event) => {
    const outcomes = await recordEdgeUploads(await getDeps(), event);
    const failed: unknown[] = [];
    const summary: EventsSummary = { recorded: 0, duplicates: 0, ignored: 0 };
    for (const o of outcomes) {
      opts.onOutcome?.(o);
      if (o.result === 'failed') failed.push(o.error);
      else if (o.result === 'ignored') summary.ignored += 1;
      else if (o.duplicate) summary.duplicates += 1;
      else summary.recorded += 1;
    }
    if (failed.length > 0) throw new AggregateError(failed, `${failed.length} of ${outcomes.length} edge uploads could not be recorded`);
    return summary;
  };
}
