// The S3 store's pure pieces: the serialized upload state and the part-size schedule.
import { describe, expect, it } from 'vitest';
import { MAX_PARTS, MIN_PART, MiB, partTarget } from '../../../functions/adapters/s3/multipart.ts';
import { knownDigest, StreamDigests } from '../../../functions/adapters/s3/running-hash.ts';
import { parseState, serializeState, stateSize, type UploadState } from '../../../functions/adapters/s3/upload-state.ts';
import { UploadGoneError } from '../../../functions/core/ports.ts';
import { createHash } from 'node:crypto';

function state(parts: string[]): UploadState {
  return {
    hashes: { sha256: 'ab'.repeat(32) },
    multipartId: 'mpu-1',
    parts,
    partBytes: parts.length * 8 * MiB,
    tail: [{ key: 'uploads/x/tail-0-ab', size: 10 }],
    junk: ['uploads/x/tail-0-cd'],
  };
}

describe('S3 upload state', () => {
  it('round-trips, storing MD5 ETags as 16 bytes each', () => {
    const etags = Array.from({ length: 1000 }, (_, i) => `"${createHash('md5').update(String(i)).digest('hex')}"`);
    const text = serializeState(state(etags));
    expect(parseState(text)).toEqual(state(etags));
    expect(stateSize(parseState(text))).toBe(1000 * 8 * MiB + 10);
    // 10,000 parts stay well inside a DynamoDB item (400 KB).
    expect(serializeState(state(Array.from({ length: MAX_PARTS }, () => etags[0] as string))).length).toBeLessThan(220_000);
  });

  it('keeps other ETags as they are', () => {
    const etags = ['"abc-kms-etag"', '"0123456789abcdef0123456789abcdef"'];
    expect(parseState(serializeState(state(etags)))).toEqual(state(etags));
  });

  it('refuses an unreadable state as a gone upload', () => {
    for (const bad of ['', 'nope', '{}', '{"v":2}', 'null', '{"v":1,"h":"x","pb":"1","t":[],"j":[]}']) {
      expect(() => parseState(bad)).toThrow(UploadGoneError);
    }
  });

  it('keeps the digests of a blob sent in one request, and none once a second request added bytes', () => {
    const d = new StreamDigests();
    d.update(Buffer.from('hello '));
    d.update(Buffer.from('world'));
    const known = d.result();
    expect(knownDigest(known, 'sha256')).toBe(`sha256:${createHash('sha256').update('hello world').digest('hex')}`);
    // Only sha256 runs per byte: a sha512 digest is verified by reading the blob back.
    expect(knownDigest(known, 'sha512')).toBeUndefined();
    expect(knownDigest(known, 'md5')).toBeUndefined();
    expect(parseState(serializeState({ ...state([]), hashes: known })).hashes).toEqual(known);
    // A session recorded while a running sha512 was kept still carries it.
    const with512 = { ...known, sha512: createHash('sha512').update('hello world').digest('hex') };
    expect(knownDigest(parseState(serializeState({ ...state([]), hashes: with512 })).hashes!, 'sha512')).toBe(`sha512:${with512.sha512}`);
    const { hashes: _dropped, ...several } = state([]);
    expect(parseState(serializeState(several)).hashes).toBeUndefined();
    // A session from before (a hash-wasm state in `h`): no digest, so it is read back at the end.
    expect(parseState('{"v":1,"h":"AAAA","pb":0,"t":[],"j":[]}').hashes).toBeUndefined();
  });
});

describe('S3 part sizes', () => {
  it('fit a stream far beyond 5 GiB into 10,000 parts, each between 5 MiB and 5 GiB, at most 64 MiB in memory', () => {
    let total = 0;
    for (let n = 1; n <= MAX_PARTS; n++) {
      const size = partTarget(n, 8 * MiB);
      expect(size).toBeGreaterThanOrEqual(MIN_PART);
      expect(size).toBeLessThanOrEqual(64 * MiB);
      total += size;
    }
    expect(total / 1024 ** 3).toBeGreaterThan(450);
    expect(partTarget(1000, 8 * MiB)).toBe(8 * MiB);
    expect(partTarget(1001, 8 * MiB)).toBe(16 * MiB);
  });
});
