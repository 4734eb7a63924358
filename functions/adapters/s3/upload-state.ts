// The S3 blob store's upload state: everything a process needs to take the next chunk of an upload,
// as one JSON string that lives in the upload session (a DynamoDB item: keep it small).
import { UploadGoneError } from '../../core/ports.ts';
import type { KnownDigests } from './running-hash.ts';

/** An object under `uploads/<id>/` holding bytes not yet in a multipart part. */
export interface Segment {
  key: string;
  size: number;
}

export interface UploadState {
  /**
   * The digests of the bytes, when they all arrived in one request (the common case). Absent once a
   * second request added bytes: finishing then verifies the blob by reading it back.
   */
  hashes?: KnownDigests;
  /** The S3 multipart upload id, once the first part went up. */
  multipartId?: string;
  /** ETags of parts 1..n, in part-number order. */
  parts: string[];
  /** Bytes held in those parts. */
  partBytes: number;
  /** The pending tail: segments holding the bytes after the parts, in order, under 5 MiB together. */
  tail: Segment[];
  /**
   * Segments this state no longer uses (folded into a part). They cannot be deleted while the state
   * that used them may still be the recorded one; once this state comes back as input it is the
   * recorded one, and they go.
   */
  junk: string[];
}

export function stateSize(s: UploadState): number {
  return s.partBytes + tailSize(s);
}

export function tailSize(s: UploadState): number {
  let n = 0;
  for (const seg of s.tail) n += seg.size;
  return n;
}

interface Wire {
  /** 2: digests (`d`, `d5`) or none. 1 (sessions from before): `h`/`h5` were hash-wasm states, now unused. */
  v: 1 | 2;
  d?: string;
  d5?: string;
  u?: string;
  /** Part ETags as strings, when any is not a plain MD5 (SSE-KMS, some emulators). */
  p?: string[];
  /** Part ETags as concatenated 16-byte MD5s, base64: 21 characters a part instead of 35. */
  pm?: string;
  pb: number;
  t: [string, number][];
  j: string[];
}

const MD5_ETAG = /^"?([0-9a-f]{32})"?$/;

export function serializeState(s: UploadState): string {
  const w: Wire = { v: 2, pb: s.partBytes, t: s.tail.map((seg) => [seg.key, seg.size]), j: s.junk };
  if (s.hashes) w.d = s.hashes.sha256;
  if (s.hashes?.sha512 !== undefined) w.d5 = s.hashes.sha512;
  if (s.multipartId !== undefined) w.u = s.multipartId;
  if (s.parts.length > 0) {
    if (s.parts.every((e) => MD5_ETAG.test(e))) {
      w.pm = Buffer.from(s.parts.map((e) => MD5_ETAG.exec(e)?.[1] ?? '').join(''), 'hex').toString('base64');
    } else {
      w.p = s.parts;
    }
  }
  return JSON.stringify(w);
}

/** Parses a state written by serializeState; an unreadable one means the upload cannot go on. */
export function parseState(text: string): UploadState {
  let w: Wire;
  try {
    w = JSON.parse(text) as Wire;
  } catch {
    throw new UploadGoneError('upload state is unreadable');
  }
  if (w === null || typeof w !== 'object' || (w.v !== 1 && w.v !== 2) || typeof w.pb !== 'number' || !Array.isArray(w.t) || !Array.isArray(w.j)) {
    throw new UploadGoneError('upload state is unreadable');
  }
  let parts: string[] = w.p ?? [];
  if (w.pm !== undefined) {
    const hex = Buffer.from(w.pm, 'base64').toString('hex');
    parts = [];
    for (let i = 0; i < hex.length; i += 32) parts.push(`"${hex.slice(i, i + 32)}"`);
  }
  const s: UploadState = { parts, partBytes: w.pb, tail: w.t.map(([key, size]) => ({ key, size })), junk: w.j };
  // A version 1 state carries a hash-wasm state instead: its upload is verified by reading it back.
  if (w.v === 2 && typeof w.d === 'string') s.hashes = { sha256: w.d, ...(typeof w.d5 === 'string' ? { sha512: w.d5 } : {}) };
  if (w.u !== undefined) s.multipartId = w.u;
  return s;
}
