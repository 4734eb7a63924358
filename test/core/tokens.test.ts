// TokenSigner: HMAC-signed, expiring tokens used for upload `_state` and signed blob URLs.
import { describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { TokenSigner } from '../../functions/core/tokens.ts';

const SECRET = '0123456789abcdef0123456789abcdef';
const NOW = 1_700_000_000;

/** Replaces one character of `s` at `i` with a different URL-safe character. */
function flip(s: string, i: number): string {
  const c = s[i];
  const replacement = c === 'A' ? 'B' : 'A';
  return s.slice(0, i) + replacement + s.slice(i + 1);
}

describe('TokenSigner', () => {
  it('round-trips a payload before expiry', () => {
    const signer = new TokenSigner(SECRET);
    const token = signer.sign('library/alpine|0b8f7c1e-1111-4222-8333-444455556666', NOW + 60);
    assert.equal(signer.verify(token, NOW), 'library/alpine|0b8f7c1e-1111-4222-8333-444455556666');
    assert.equal(signer.verify(token, NOW + 59), 'library/alpine|0b8f7c1e-1111-4222-8333-444455556666');
  });

  it('round-trips unicode, empty and characters that are special in URLs', () => {
    const signer = new TokenSigner(SECRET);
    for (const payload of ['', 'blob|sha256:abc', 'a/b?c=d&e#f|x', 'äöü ✓ 𝄞', '+/=']) {
      assert.equal(signer.verify(signer.sign(payload, NOW + 10), NOW), payload, JSON.stringify(payload));
    }
  });

  it('tokens are URL-safe (usable unescaped in a query string)', () => {
    const signer = new TokenSigner(SECRET);
    const token = signer.sign('a/b?c=d&e#f|x ✓ +/=', NOW + 10);
    assert.match(token, /^[A-Za-z0-9_.-]+$/);
    assert.equal(new URLSearchParams(`_state=${token}`).get('_state'), token);
  });

  it('refuses an expired token', () => {
    const signer = new TokenSigner(SECRET);
    const token = signer.sign('p', NOW);
    assert.equal(signer.verify(token, NOW + 1), undefined);
    assert.equal(signer.verify(token, NOW + 3600), undefined);
    assert.equal(signer.verify(signer.sign('p', NOW - 1), NOW), undefined);
  });

  it('open() gives payload and expiry of an authentic token, expired or not, and nothing for a forged one', () => {
    const signer = new TokenSigner(SECRET);
    assert.deepEqual(signer.open(signer.sign('p|q', NOW - 100)), { payload: 'p|q', expiresAtSeconds: NOW - 100 });
    assert.deepEqual(signer.open(signer.sign('p|q', NOW + 100)), { payload: 'p|q', expiresAtSeconds: NOW + 100 });
    const [p, e, mac] = signer.sign('p', NOW).split('.') as [string, string, string];
    assert.equal(signer.open(`${p}.${NOW + 1}.${mac}`), undefined);
    assert.equal(signer.open(`${p}.${e}.${flip(mac, 0)}`), undefined);
    assert.equal(new TokenSigner(`${SECRET}-other`).open(`${p}.${e}.${mac}`), undefined);
    assert.equal(signer.open('garbage'), undefined);
  });

  it('uses the current time when none is given', () => {
    const signer = new TokenSigner(SECRET);
    const nowSeconds = Math.floor(Date.now() / 1000);
    assert.equal(signer.verify(signer.sign('fresh', nowSeconds + 60)), 'fresh');
    assert.equal(signer.verify(signer.sign('stale', nowSeconds - 60)), undefined);
  });

  it('refuses a token whose payload part was changed', () => {
    const signer = new TokenSigner(SECRET);
    const token = signer.sign('repo-a|id', NOW + 60);
    const [p, e, mac] = token.split('.') as [string, string, string];
    // Substitute the payload of another valid token (same key, same expiry).
    const other = signer.sign('repo-b|id', NOW + 60).split('.')[0];
    assert.equal(signer.verify(`${other}.${e}.${mac}`, NOW), undefined);
    for (let i = 0; i < p.length; i++) assert.equal(signer.verify(`${flip(p, i)}.${e}.${mac}`, NOW), undefined, `payload char ${i}`);
    assert.equal(signer.verify(`${p}x.${e}.${mac}`, NOW), undefined);
    assert.equal(signer.verify(`.${e}.${mac}`, NOW), undefined);
  });

  it('refuses a token whose expiry part was changed (e.g. extended)', () => {
    const signer = new TokenSigner(SECRET);
    const token = signer.sign('p', NOW + 60);
    const [p, , mac] = token.split('.') as [string, string, string];
    for (const e of [String(NOW + 61), String(NOW + 10_000_000), String(NOW + 59), '9999999999', `0${NOW + 60}`, '', 'x', '-1']) {
      assert.equal(signer.verify(`${p}.${e}.${mac}`, NOW), undefined, `expiry ${JSON.stringify(e)}`);
    }
  });

  it('refuses a token whose MAC was changed, truncated or extended', () => {
    const signer = new TokenSigner(SECRET);
    const token = signer.sign('p', NOW + 60);
    const [p, e, mac] = token.split('.') as [string, string, string];
    for (let i = 0; i < mac.length; i++) assert.equal(signer.verify(`${p}.${e}.${flip(mac, i)}`, NOW), undefined, `mac char ${i}`);
    assert.equal(signer.verify(`${p}.${e}.${mac.slice(0, -1)}`, NOW), undefined);
    assert.equal(signer.verify(`${p}.${e}.${mac}A`, NOW), undefined);
    assert.equal(signer.verify(`${p}.${e}.`, NOW), undefined);
    assert.equal(signer.verify(`${p}.${e}.${mac}=`, NOW), undefined);
  });

  it('refuses malformed tokens', () => {
    const signer = new TokenSigner(SECRET);
    const token = signer.sign('p', NOW + 60);
    for (const bad of ['', '.', '..', '...', 'abc', token.split('.').slice(0, 2).join('.'), `${token}.x`, `x.${token}`, ` ${token}`]) {
      assert.equal(signer.verify(bad, NOW), undefined, JSON.stringify(bad));
    }
  });

  it('refuses a token signed with another key', () => {
    const a = new TokenSigner(SECRET);
    const b = new TokenSigner('fedcba9876543210fedcba9876543210');
    const c = new TokenSigner(`${SECRET}x`);
    const token = a.sign('p', NOW + 60);
    assert.equal(a.verify(token, NOW), 'p');
    assert.equal(b.verify(token, NOW), undefined);
    assert.equal(c.verify(token, NOW), undefined);
    assert.equal(a.verify(b.sign('p', NOW + 60), NOW), undefined);
  });

  it('two signers with the same secret (string or bytes) agree', () => {
    const a = new TokenSigner(SECRET);
    const b = new TokenSigner(new TextEncoder().encode(SECRET));
    assert.equal(b.verify(a.sign('shared', NOW + 5), NOW), 'shared');
    assert.equal(a.sign('shared', NOW + 5), b.sign('shared', NOW + 5));
  });

  it('different payloads or expiries give different tokens', () => {
    const signer = new TokenSigner(SECRET);
    assert.notEqual(signer.sign('a', NOW), signer.sign('b', NOW));
    assert.notEqual(signer.sign('a', NOW), signer.sign('a', NOW + 1));
  });

  it('refuses a secret shorter than 16 bytes and accepts 16', () => {
    assert.throws(() => new TokenSigner(''));
    assert.throws(() => new TokenSigner('short'));
    assert.throws(() => new TokenSigner('x'.repeat(15)));
    assert.throws(() => new TokenSigner(new Uint8Array(15)));
    assert.doesNotThrow(() => new TokenSigner('x'.repeat(16)));
    assert.doesNotThrow(() => new TokenSigner(new Uint8Array(32).fill(7)));
  });

  it('measures the secret in bytes, not characters', () => {
    // 8 characters, 16 bytes in UTF-8.
    assert.doesNotThrow(() => new TokenSigner('éééééééé'));
  });
});
