// Reading small request bodies (manifests) into memory, with a hard size limit.
import { RegistryError } from './errors.ts';

/**
 * Reads the whole body if it is at most `limit` bytes; undefined if it is larger (checked against
 * Content-Length first, then while reading, so an oversized body is never buffered).
 */
export async function readLimited(body: AsyncIterable<Uint8Array> | undefined, limit: number, contentLength?: string): Promise<Uint8Array | undefined> {
  if (contentLength !== undefined) {
    const n = Number(contentLength);
    if (!Number.isSafeInteger(n) || n < 0) throw new RegistryError('SIZE_INVALID', { reason: 'invalid Content-Length' });
    if (n > limit) return undefined;
  }
  if (!body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.byteLength;
    if (size > limit) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}
