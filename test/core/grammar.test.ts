// Repository name, tag and digest grammar (OCI distribution spec "Pulling manifests" and the image
// spec's digest grammar), checked against the pure functions in functions/core/grammar.ts.
import { describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { RegistryError } from '../../functions/core/errors.ts';
import {
  digestAlgorithm,
  isDigestLike,
  isValidDigest,
  isValidName,
  isValidTag,
  parseReference,
  requireDigest,
  requireName,
} from '../../functions/core/grammar.ts';

const sha256 = (s: string): string => `sha256:${createHash('sha256').update(s).digest('hex')}`;
const sha512 = (s: string): string => `sha512:${createHash('sha512').update(s).digest('hex')}`;

/**
 * CPU time (ms) this thread spent in `work`: a bound on it fails on catastrophic backtracking (seconds
 * of CPU), not because other processes on a busy machine delayed the test (wall-clock time would).
 */
function threadCpuMs(work: () => void): number {
  const before = process.threadCpuUsage();
  work();
  const used = process.threadCpuUsage(before);
  return (used.user + used.system) / 1000;
}

function assertRegistryError(fn: () => unknown, code: string, status: number): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof RegistryError, `expected a RegistryError, got ${String(e)}`);
    assert.equal(e.code, code);
    assert.equal(e.status, status);
    return true;
  });
}

describe('repository names', () => {
  const valid = [
    'a',
    '0',
    'library/alpine',
    'a/b/c/d/e',
    'my-repo',
    'my--repo',
    'my---repo',
    'my.repo',
    'my_repo',
    'my__repo',
    'a1.b2_c3__d4-e5',
    'foo/bar-baz/qux.quux',
    '127.0.0.1/x',
  ];
  for (const name of valid) {
    it(`accepts ${JSON.stringify(name)}`, () => {
      assert.equal(isValidName(name), true);
      assert.equal(requireName(name), name);
    });
  }

  const invalid = [
    '',
    'A',
    'Library/alpine',
    'library/Alpine',
    '/a',
    'a/',
    'a//b',
    '-a',
    'a-',
    '.a',
    'a.',
    '_a',
    'a_',
    'a___b', // only one or two underscores form a separator
    'a..b',
    'a._b',
    'a-.b',
    'a b',
    'a:b',
    'a@b',
    'a/-b',
    'a/b.',
    'é',
    'a\nb',
    'a/../b',
  ];
  for (const name of invalid) {
    it(`refuses ${JSON.stringify(name)} with NAME_INVALID`, () => {
      assert.equal(isValidName(name), false);
      assertRegistryError(() => requireName(name), 'NAME_INVALID', 400);
    });
  }

  it('accepts a name of exactly 255 characters and refuses 256', () => {
    const component = 'a'.repeat(50);
    const name255 = [component, component, component, component, component].join('/').slice(0, 253) + 'bb';
    assert.equal(name255.length, 255);
    assert.equal(isValidName(name255), true, 'a 255-character name is valid');
    const name256 = `${name255.slice(0, 254)}cc`;
    assert.equal(name256.length, 256);
    assert.equal(isValidName(name256), false, 'a 256-character name is too long');
    assertRegistryError(() => requireName(name256), 'NAME_INVALID', 400);
    assert.equal(isValidName('a'.repeat(256)), false);
    assert.equal(isValidName('a'.repeat(255)), true);
  });

  it('handles a pathological name quickly (no catastrophic backtracking)', () => {
    const cpuMs = threadCpuMs(() => {
      assert.equal(isValidName(`${'a-'.repeat(5000)}!`), false);
      assert.equal(isValidName(`${'a.'.repeat(120)}-`), false);
    });
    assert.ok(cpuMs < 500, `name check took ${cpuMs} ms of CPU`);
  });
});

describe('tags', () => {
  const valid = ['latest', 'v1', 'V1.2.3', '_hidden', '1', 'a-b_c.d', 'UPPER', 'x'.repeat(128), '0.0.0-rc.1_build-7'];
  for (const tag of valid) {
    it(`accepts ${JSON.stringify(tag.length > 20 ? `${tag.slice(0, 10)}…(${tag.length})` : tag)}`, () => {
      assert.equal(isValidTag(tag), true);
      assert.deepEqual(parseReference(tag), { kind: 'tag', tag });
    });
  }

  const invalid = ['', '.hidden', '-dash', 'x'.repeat(129), 'a/b', 'a+b', 'a b', 'ä', 'a\n', 'tag!'];
  for (const tag of invalid) {
    it(`refuses ${JSON.stringify(tag.length > 20 ? `${tag.slice(0, 10)}…(${tag.length})` : tag)} with TAG_INVALID`, () => {
      assert.equal(isValidTag(tag), false);
      assertRegistryError(() => parseReference(tag), 'TAG_INVALID', 400);
    });
  }
});

describe('digests', () => {
  const good256 = sha256('hello');
  const good512 = sha512('hello');

  it('accepts sha256 (64 lowercase hex) and sha512 (128 lowercase hex)', () => {
    assert.equal(isValidDigest(good256), true);
    assert.equal(isValidDigest(good512), true);
    assert.equal(requireDigest(good256), good256);
    assert.equal(requireDigest(good512), good512);
    assert.equal(digestAlgorithm(good256), 'sha256');
    assert.equal(digestAlgorithm(good512), 'sha512');
  });

  const hex256 = good256.slice('sha256:'.length);
  const hex512 = good512.slice('sha512:'.length);
  const invalid: [string, string][] = [
    ['empty', ''],
    ['no algorithm', hex256],
    ['no colon, algorithm prefix', `sha256${hex256}`],
    ['empty encoded part', 'sha256:'],
    ['empty algorithm', `:${hex256}`],
    ['uppercase hex', `sha256:${hex256.toUpperCase()}`],
    ['uppercase algorithm', `SHA256:${hex256}`],
    ['sha256 too short', `sha256:${hex256.slice(1)}`],
    ['sha256 too long', `sha256:${hex256}0`],
    ['sha256 with a 128-hex encoding', `sha256:${hex512}`],
    ['sha512 with a 64-hex encoding', `sha512:${hex256}`],
    ['non-hex character', `sha256:${hex256.slice(1)}g`],
    ['unknown algorithm (well-formed)', `md5:${'0'.repeat(32)}`],
    ['unknown algorithm sha384', `sha384:${'0'.repeat(96)}`],
    ['multihash-like well-formed but unsupported', `multihash+base58:${'Q'.repeat(46)}`],
    ['two colons', `sha256:${hex256}:x`],
    ['whitespace', ` ${good256}`],
    ['trailing newline', `${good256}\n`],
  ];
  for (const [why, d] of invalid) {
    it(`refuses ${why} with DIGEST_INVALID`, () => {
      assert.equal(isValidDigest(d), false);
      assertRegistryError(() => requireDigest(d), 'DIGEST_INVALID', 400);
    });
  }

  it('refuses a missing digest (undefined / null) with DIGEST_INVALID', () => {
    assertRegistryError(() => requireDigest(undefined), 'DIGEST_INVALID', 400);
    assertRegistryError(() => requireDigest(null), 'DIGEST_INVALID', 400);
  });

  it('handles very long input quickly and refuses it', () => {
    const cpuMs = threadCpuMs(() => {
      const long = `sha256:${'a'.repeat(100_000)}`;
      assert.equal(isValidDigest(long), false);
      assert.equal(isValidDigest(`${'a+'.repeat(50_000)}:x`), false);
    });
    assert.ok(cpuMs < 500, `digest check took ${cpuMs} ms of CPU`);
  });
});

describe('parseReference', () => {
  it('reads a reference containing ":" as a digest', () => {
    const d = sha256('x');
    assert.deepEqual(parseReference(d), { kind: 'digest', digest: d });
    const d512 = sha512('x');
    assert.deepEqual(parseReference(d512), { kind: 'digest', digest: d512 });
    assert.equal(isDigestLike(d), true);
    assert.equal(isDigestLike('latest'), false);
  });

  it('a malformed or unsupported digest reference is DIGEST_INVALID, never read as a tag', () => {
    assertRegistryError(() => parseReference('sha256:abc'), 'DIGEST_INVALID', 400);
    assertRegistryError(() => parseReference(`md5:${'0'.repeat(32)}`), 'DIGEST_INVALID', 400);
    assertRegistryError(() => parseReference('latest:1'), 'DIGEST_INVALID', 400);
    assertRegistryError(() => parseReference(':'), 'DIGEST_INVALID', 400);
  });

  it('a reference without ":" that is not a valid tag is TAG_INVALID', () => {
    assertRegistryError(() => parseReference('.bad'), 'TAG_INVALID', 400);
    assertRegistryError(() => parseReference(''), 'TAG_INVALID', 400);
    assertRegistryError(() => parseReference('t'.repeat(129)), 'TAG_INVALID', 400);
  });
});
