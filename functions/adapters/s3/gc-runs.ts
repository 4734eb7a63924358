// Where the GC Lambda (functions/apps/gc-lambda) keeps a run between invocations: S3 objects under
// gc/ in the blob bucket (not replicated, never listed by GC itself): gc/runs/<runId>/state.json (the
// GcState, which holds every digest still linked, so it can outgrow a Step Functions payload or a
// DynamoDB item) and, when the run is done, gc/runs/<runId>/report.json.
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { GcState } from '../../core/gc/run.ts';
import type { GcReport } from '../../core/gc/report.ts';
import { isMissing } from './s3-errors.ts';

export const GC_PREFIX = 'gc/';

/** A run's state and how many invocations have saved it (the Step Functions loop passes it on). */
export interface SavedRun {
  seq: number;
  state: GcState;
}

const RUN_ID = /^[0-9A-Za-z_.:-]{1,80}$/;

export function isRunId(v: unknown): v is string {
  return typeof v === 'string' && RUN_ID.test(v);
}

export const stateKey = (runId: string): string => `${GC_PREFIX}runs/${runId}/state.json`;
export const reportKey = (runId: string): string => `${GC_PREFIX}runs/${runId}/report.json`;

export class GcRunStore {
  readonly #s3: S3Client;
  readonly #bucket: string;

  constructor(s3: S3Client, bucket: string) {
    this.#s3 = s3;
    this.#bucket = bucket;
  }

  async load(runId: string): Promise<SavedRun | undefined> {
    try {
      const out = await this.#s3.send(new GetObjectCommand({ Bucket: this.#bucket, Key: stateKey(runId) }));
      return JSON.parse(await out.Body!.transformToString()) as SavedRun;
    } catch (e) {
      if (isMissing(e)) return undefined;
      throw e;
    }
  }

  async save(runId: string, run: SavedRun): Promise<void> {
    await this.#put(stateKey(runId), run);
  }

  async saveReport(runId: string, report: GcReport): Promise<void> {
    await this.#put(reportKey(runId), report);
  }

  async #put(key: string, value: unknown): Promise<void> {
    await this.#s3.send(new PutObjectCommand({ Bucket: this.#bucket, Key: key, Body: JSON.stringify(value), ContentType: 'application/json' }));
  }
}
