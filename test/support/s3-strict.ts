// Checks real S3 makes that s3rver 3.7 does not (signatures aside), applied to every client of a local S3 as
// SDK middleware, plus a log of the calls that reach the wire:
// - CompleteMultipartUpload fails with EntityTooSmall when a part but the last is under 5 MiB, and with
//   InvalidPart when a listed ETag is not the last one uploaded under that number (s3rver checks neither);
// - UploadPart and CompleteMultipartUpload of an unknown or aborted upload fail with NoSuchUpload
//   (s3rver creates unknown uploads on the fly);
// - PutObject with ChecksumSHA256 fails with BadDigest when the body does not match it;
// - AbortMultipartUpload, which s3rver answers 405, is carried out here: the upload is marked aborted.
import { createHash } from 'node:crypto';
import { S3ServiceException } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';

const MIN_PART = 5 * 1024 * 1024;

interface PartRecord {
  size: number;
  etag: string;
}

export interface WireCall {
  command: string;
  /** UploadPart and PutObject: body bytes. */
  size?: number;
  partNumber?: number;
  uploadId?: string;
  /** Request header names (lower case) as sent. */
  headers: string[];
}

function s3Error(name: string, status: number, message: string): S3ServiceException {
  return new S3ServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: status }, message });
}

function bodyLength(body: unknown): number | undefined {
  if (body instanceof Uint8Array) return body.length;
  if (typeof body === 'string') return Buffer.byteLength(body);
  return undefined;
}

export class S3Strictness {
  readonly #uploads = new Map<string, Map<number, PartRecord>>();
  readonly #aborted = new Set<string>();
  /** Every request that went over the wire (retries included), in order. */
  readonly calls: WireCall[] = [];

  /** Calls per command name since the last reset. */
  counts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const c of this.calls) out[c.command] = (out[c.command] ?? 0) + 1;
    return out;
  }

  reset(): void {
    this.calls.length = 0;
  }

  install(client: S3Client): void {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const command = context.commandName ?? '';
        const input = args.input as Record<string, unknown>;
        const uploadId = input.UploadId as string | undefined;
        if (command === 'UploadPartCommand' || command === 'CompleteMultipartUploadCommand') {
          if (uploadId === undefined || !this.#uploads.has(uploadId) || this.#aborted.has(uploadId)) {
            throw s3Error('NoSuchUpload', 404, 'The specified upload does not exist.');
          }
        }
        if (command === 'CompleteMultipartUploadCommand') this.#checkComplete(uploadId as string, input);
        if (command === 'PutObjectCommand' && typeof input.ChecksumSHA256 === 'string' && input.Body instanceof Uint8Array) {
          const actual = createHash('sha256').update(input.Body).digest('base64');
          if (actual !== input.ChecksumSHA256) throw s3Error('BadDigest', 400, 'The SHA256 you specified did not match the calculated checksum.');
        }
        let result;
        try {
          result = await next(args);
        } catch (e) {
          if (command === 'AbortMultipartUploadCommand' && (e as Error).name === 'MethodNotAllowed' && uploadId !== undefined) {
            if (!this.#uploads.has(uploadId) || this.#aborted.has(uploadId)) throw s3Error('NoSuchUpload', 404, 'The specified upload does not exist.');
            this.#aborted.add(uploadId);
            return { output: { $metadata: { httpStatusCode: 204 } }, response: {} } as unknown as typeof result & object;
          }
          throw e;
        }
        const output = result.output as unknown as Record<string, unknown>;
        if (command === 'CreateMultipartUploadCommand') this.#uploads.set(output.UploadId as string, new Map());
        if (command === 'UploadPartCommand') {
          this.#uploads.get(uploadId as string)?.set(input.PartNumber as number, { size: bodyLength(input.Body) ?? -1, etag: String(output.ETag) });
        }
        if (command === 'CompleteMultipartUploadCommand') this.#uploads.delete(uploadId as string);
        return result;
      },
      { step: 'initialize', name: 'strictS3', priority: 'high' },
    );
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as Record<string, unknown>;
        const request = args.request as { headers?: Record<string, string> } | undefined;
        const call: WireCall = { command: (context.commandName ?? '').replace(/Command$/, ''), headers: Object.keys(request?.headers ?? {}).map((h) => h.toLowerCase()) };
        const size = bodyLength(input.Body);
        if (size !== undefined) call.size = size;
        if (typeof input.PartNumber === 'number') call.partNumber = input.PartNumber;
        if (typeof input.UploadId === 'string') call.uploadId = input.UploadId;
        this.calls.push(call);
        return next(args);
      },
      // Runs once per attempt that reaches the HTTP handler; presigning stops before this step.
      { step: 'deserialize', name: 'wireCallLog', priority: 'low' },
    );
  }

  #checkComplete(uploadId: string, input: Record<string, unknown>): void {
    const uploaded = this.#uploads.get(uploadId) as Map<number, PartRecord>;
    const listed = ((input.MultipartUpload as { Parts?: { PartNumber?: number; ETag?: string }[] } | undefined)?.Parts ?? []).slice();
    for (let i = 0; i < listed.length; i++) {
      const p = listed[i] as { PartNumber?: number; ETag?: string };
      const rec = uploaded.get(p.PartNumber ?? -1);
      if (!rec || rec.etag.replace(/"/g, '') !== (p.ETag ?? '').replace(/"/g, '')) {
        throw s3Error('InvalidPart', 400, `part ${p.PartNumber} was not uploaded with ETag ${p.ETag}`);
      }
      if (i < listed.length - 1 && rec.size < MIN_PART) {
        throw s3Error('EntityTooSmall', 400, `part ${p.PartNumber} is ${rec.size} bytes, under the 5 MiB minimum`);
      }
    }
  }
}
