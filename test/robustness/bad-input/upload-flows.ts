// Cases for upload sessions used in bad orders: PUT before PATCH, reuse after DELETE or PUT, tampered
// `_state` tokens, foreign Locations, wrong offsets, digest mismatches, concurrent PATCHes.
import { headerValue, locationPath, type RequestSpec, sha256, withQuery } from '../lib.ts';
import { FUZZ, OTHER, REPO } from './config.ts';
import { E, X4 } from './contract.ts';
import { hex64, uuidOf } from './fixtures.ts';
import type { Kit } from './kit.ts';

export function addUploadFlowCases(k: Kit): void {
  const { c, add, startSession, expectRange, expectBlobAbsent } = k;
  // --- Upload flows in bad orders ------------------------------------------------------------------
  add('upload/put-before-patch', async (rng, h) => {
    const loc = await startSession(h);
    if (!loc) return;
    const bytes = rng.bytes(rng.range(1, 5000));
    await h.req({ method: 'PUT', path: withQuery(loc, `digest=${sha256(bytes)}`) }, E(400, 'DIGEST_INVALID'));
    await h.req({ method: 'GET', path: loc }, E(404, 'BLOB_UPLOAD_UNKNOWN'));
    await expectBlobAbsent(h, REPO, sha256(bytes), 'PUT without the content');
  });
  add('upload/put-without-digest', async (_rng, h) => {
    const loc = await startSession(h);
    if (!loc) return;
    await h.req({ method: 'PUT', path: loc, body: 'abc' }, E(400, 'DIGEST_INVALID'));
    await expectBlobAbsent(h, REPO, sha256('abc'), 'PUT without digest');
  });
  add('upload/patch-after-delete', async (_rng, h) => {
    const loc = await startSession(h);
    if (!loc) return;
    await h.req({ method: 'DELETE', path: loc }, E(204));
    await h.req({ method: 'PATCH', path: loc, body: 'abc' }, E(404, 'BLOB_UPLOAD_UNKNOWN'));
    await h.req({ method: 'GET', path: loc }, E(404, 'BLOB_UPLOAD_UNKNOWN'));
    await h.req({ method: 'PUT', path: withQuery(loc, `digest=${sha256('abc')}`), body: 'abc' }, E(404, 'BLOB_UPLOAD_UNKNOWN'));
    await h.req({ method: 'DELETE', path: loc }, E(404, 'BLOB_UPLOAD_UNKNOWN'));
    await expectBlobAbsent(h, REPO, sha256('abc'), 'PUT after DELETE');
  });
  add('upload/double-put', async (rng, h) => {
    const loc = await startSession(h, FUZZ);
    if (!loc) return;
    const bytes = rng.bytes(rng.range(1, 4000));
    const put = await h.req({ method: 'PUT', path: withQuery(loc, `digest=${sha256(bytes)}`), body: bytes }, E(201));
    if (put?.status === 201) h.check(headerValue(put, 'docker-content-digest') === sha256(bytes), 'PUT 201 without the right Docker-Content-Digest', `got ${headerValue(put, 'docker-content-digest')}`);
    await h.req({ method: 'PUT', path: withQuery(loc, `digest=${sha256(bytes)}`), body: bytes }, E(404, 'BLOB_UPLOAD_UNKNOWN'));
    await h.req({ method: 'PATCH', path: loc, body: 'more' }, E(404, 'BLOB_UPLOAD_UNKNOWN'));
    const head = await h.req({ method: 'HEAD', path: `/v2/${FUZZ}/blobs/${sha256(bytes)}` }, E(200));
    if (head?.status === 200) h.check(headerValue(head, 'content-length') === String(bytes.length), 'blob HEAD has the wrong size after a double PUT', `Content-Length ${headerValue(head, 'content-length')} != ${bytes.length}`);
  });
  add('upload/tampered-state', async (rng, h) => {
    const loc = await startSession(h);
    if (!loc) return;
    const m2 = /_state=([^&]+)/.exec(loc);
    if (!m2?.[1]) {
      h.check(false, 'upload Location has no _state token', loc);
      return;
    }
    const token = m2[1];
    const i = rng.int(token.length);
    const flipped = token.slice(0, i) + (token[i] === 'A' ? 'B' : 'A') + token.slice(i + 1);
    const method = rng.pick(['GET', 'PATCH', 'PUT', 'DELETE'] as const);
    const spec: RequestSpec = { method, path: loc.replace(token, flipped) };
    if (method === 'PATCH') spec.body = 'abc';
    if (method === 'PUT') Object.assign(spec, { path: withQuery(spec.path, `digest=${sha256('abc')}`), body: 'abc' });
    const res = await h.req(spec, E([400, 404], ['BLOB_UPLOAD_INVALID', 'BLOB_UPLOAD_UNKNOWN']));
    if (res) h.check(res.status === 400, 'tampered _state not answered 400 BLOB_UPLOAD_INVALID (lead decision)', `${method} with a token flipped at ${i} -> ${res.status}`);
    await expectRange(h, loc, '0-0', `after ${method} with a tampered _state`);
    await expectBlobAbsent(h, REPO, sha256('abc'), 'PUT with tampered _state');
  });
  add('upload/state-variants', async (rng, h) => {
    const loc = await startSession(h);
    const other = await startSession(h);
    if (!loc || !other) return;
    const token = /_state=([^&]+)/.exec(loc)?.[1] ?? '';
    const otherToken = /_state=([^&]+)/.exec(other)?.[1] ?? '';
    const parts = token.split('.');
    const variant = rng.pick([
      loc.replace(token, token.slice(0, token.length - 5)),
      loc.replace(token, ''),
      loc.replace(`_state=${token}`, ''),
      loc.replace(token, otherToken),
      loc.replace(token, `${token}.x`),
      loc.replace(token, `${parts[0]}.99999999999.${parts[2] ?? ''}`),
      loc.replace(token, `${parts[0]}.1.${parts[2] ?? ''}`),
      loc.replace(token, '%ff%fe'),
      loc.replace(token, 'x'.repeat(8000)),
      `${loc}&_state=${otherToken}`,
      `${loc}&_state=garbage`,
    ]);
    await h.req({ method: 'PATCH', path: variant, body: 'abc' }, E([202, 400, 404]));
    await h.req({ method: 'GET', path: other }, E(204));
  });
  add('upload/location-of-repo-a-under-repo-b', async (rng, h) => {
    const loc = await startSession(h, REPO);
    if (!loc) return;
    const moved = loc.replace(`/v2/${REPO}/`, `/v2/${OTHER}/`);
    const method = rng.pick(['GET', 'PATCH', 'PUT', 'DELETE'] as const);
    const spec: RequestSpec = { method, path: moved };
    if (method === 'PATCH') spec.body = 'abc';
    if (method === 'PUT') Object.assign(spec, { path: withQuery(moved, `digest=${sha256('abc')}`), body: 'abc' });
    await h.req(spec, E(404, 'BLOB_UPLOAD_UNKNOWN'));
    await expectRange(h, loc, '0-0', `after ${method} of its Location under ${OTHER}`);
    await expectBlobAbsent(h, OTHER, sha256('abc'), 'PUT of a foreign Location');
  });
  add('upload/location-of-repo-a-under-repo-b-without-state', async (rng, h) => {
    const loc = await startSession(h, REPO);
    if (!loc) return;
    const moved = loc.replace(`/v2/${REPO}/`, `/v2/${OTHER}/`).replace(/\?.*$/, '');
    await h.req({ method: rng.pick(['GET', 'DELETE']), path: moved }, E(404, 'BLOB_UPLOAD_UNKNOWN'));
    await expectRange(h, loc, '0-0', 'after use of its bare Location under another repo');
  });
  add('upload/unknown-session', async (rng, h) => {
    const id = rng.pick([uuidOf(rng), 'not-a-uuid', '0'.repeat(36), '..', 'x'.repeat(3000)]);
    await h.req({ method: rng.pick(['GET', 'PATCH', 'PUT', 'DELETE']), path: `/v2/${REPO}/blobs/uploads/${id}`, body: 'abc' }, E(404, 'BLOB_UPLOAD_UNKNOWN'));
  });
  add('upload/wrong-offset', async (rng, h) => {
    const loc = await startSession(h);
    if (!loc) return;
    const ok = await h.req({ method: 'PATCH', path: loc, headers: { 'content-range': '0-2' }, body: 'abc' }, E(202));
    if (ok?.status === 202) h.check(headerValue(ok, 'range') === '0-2', 'PATCH reply Range wrong', `Range ${headerValue(ok, 'range')}`);
    const start = rng.pick([0, 1, 2, 4, 5, 1000]);
    const res = await h.req({ method: 'PATCH', path: loc, headers: { 'content-range': `${start}-${start + 2}` }, body: 'def' }, E(416, 'BLOB_UPLOAD_INVALID'));
    if (res?.status === 416) h.check(headerValue(res, 'range') === '0-2', '416 without the current Range', `Range ${headerValue(res, 'range')}`);
    await expectRange(h, loc, '0-2', 'after a PATCH at a wrong offset');
  });
  add('upload/content-length-vs-range-mismatch', async (_rng, h) => {
    const loc = await startSession(h);
    if (!loc) return;
    await h.req({ method: 'PATCH', path: loc, headers: { 'content-range': '0-9' }, body: 'hello' }, X4);
    await expectRange(h, loc, '0-0', 'after PATCH whose Content-Range announces more than the body');
  });
  add('upload/digest-mismatch', async (rng, h) => {
    const loc = await startSession(h);
    if (!loc) return;
    const bytes = rng.bytes(rng.range(1, 5000));
    await h.req({ method: 'PATCH', path: loc, body: bytes }, E(202));
    const wrong = `sha256:${hex64(rng)}`;
    await h.req({ method: 'PUT', path: withQuery(loc, `digest=${wrong}`) }, E(400, 'DIGEST_INVALID'));
    await h.req({ method: 'GET', path: loc }, E(404, 'BLOB_UPLOAD_UNKNOWN'));
    await expectBlobAbsent(h, REPO, wrong, 'PUT with a wrong digest');
    await expectBlobAbsent(h, REPO, sha256(bytes), 'PUT with a wrong digest (actual content)');
  });
  add('upload/concurrent-patches', async (rng, h) => {
    const loc = await startSession(h);
    if (!loc) return;
    const sizes = Array.from({ length: rng.range(2, 5) }, () => rng.range(1, 20_000));
    const results = await Promise.all(sizes.map((n) => h.req({ method: 'PATCH', path: loc, body: rng.bytes(n) }, E([202, 416]))));
    const accepted = sizes.reduce((sum, n, i) => sum + (results[i]?.status === 202 ? n : 0), 0);
    await expectRange(h, loc, `0-${Math.max(accepted - 1, 0)}`, `after concurrent PATCHes of ${sizes.join(',')} (accepted ${accepted} bytes)`);
  });
  add('upload/recovers-after-rejections', async (rng, h) => {
    const loc = await startSession(h, FUZZ);
    if (!loc) return;
    const a = rng.bytes(rng.range(1, 3000));
    const b = rng.bytes(rng.range(1, 3000));
    await h.req({ method: 'PATCH', path: loc, headers: { 'content-range': `0-${a.length - 1}` }, body: a }, E(202));
    await h.req({ method: 'PATCH', path: loc, headers: { 'content-range': `0-${b.length - 1}` }, body: b }, E(416, 'BLOB_UPLOAD_INVALID'));
    await h.req({ method: 'PATCH', path: loc, headers: { 'content-range': 'garbage' }, body: b }, X4);
    await h.req({ method: 'PUT', path: withQuery(loc, `digest=md5:${hex64(rng).slice(0, 32)}`) }, E(400, 'DIGEST_INVALID'));
    // The invalid digest must not have cancelled the session (it is malformed, not a mismatch).
    const res = await h.req({ method: 'PATCH', path: loc, headers: { 'content-range': `${a.length}-${a.length + b.length - 1}` }, body: b }, E(202));
    if (res?.status !== 202) return;
    const all = Buffer.concat([a, b]);
    const put = await h.req({ method: 'PUT', path: withQuery(loc, `digest=${sha256(all)}`) }, E(201));
    if (put?.status !== 201) return;
    const redirect = await h.req({ method: 'GET', path: `/v2/${FUZZ}/blobs/${sha256(all)}` }, E(307));
    if (redirect?.status !== 307) return;
    const got = await h.req({ method: 'GET', path: locationPath(c.base, headerValue(redirect, 'location')) }, E(200));
    if (got) h.check(got.body.equals(all), 'blob content corrupted by rejected chunks', `expected ${all.length} bytes ${sha256(all)}, got ${got.body.length} bytes ${sha256(got.body)}`);
  });
  add('upload/streamed-patch-then-bad-put', async (rng, h) => {
    const loc = await startSession(h);
    if (!loc) return;
    const chunks = Array.from({ length: rng.range(1, 5) }, () => rng.bytes(rng.range(1, 2000)));
    const body = (async function* () {
      for (const ch of chunks) yield ch;
    })();
    await h.req({ method: 'PATCH', path: loc, body }, E(202));
    const total = chunks.reduce((s, ch) => s + ch.length, 0);
    await expectRange(h, loc, `0-${total - 1}`, 'after a streamed PATCH');
    await h.req({ method: 'PUT', path: withQuery(loc, 'digest=sha256:') }, E(400, 'DIGEST_INVALID'));
  });
}
