// Generic fuzzing: valid requests on a separate repository with random path, method and header
// mutations; only the generic checks apply.
import type { RequestSpec } from '../lib.ts';
import { OCI_INDEX, OCI_MANIFEST } from '../oci.ts';
import { FUZZ, REPO } from './config.ts';
import { ANY } from './contract.ts';
import type { Kit } from './kit.ts';

export function addFuzzCases(k: Kit): void {
  const { c, add } = k;
  const m = c.manifest;
  // --- Generic path/header fuzzing on a separate repository ---------------------------------------------
  add('fuzz/mutated-request', async (rng, h) => {
    const templates: RequestSpec[] = [
      { method: 'GET', path: '/v2/' },
      { method: 'GET', path: '/v2/_catalog?n=5' },
      { method: 'GET', path: `/v2/${FUZZ}/tags/list?n=2&last=a` },
      { method: 'GET', path: `/v2/${FUZZ}/manifests/good` },
      { method: 'HEAD', path: `/v2/${FUZZ}/manifests/${m.digest}` },
      { method: 'GET', path: `/v2/${FUZZ}/blobs/${c.layer.digest}` },
      { method: 'HEAD', path: `/v2/${FUZZ}/blobs/${c.config.digest}` },
      { method: 'POST', path: `/v2/${FUZZ}/blobs/uploads/` },
      { method: 'POST', path: `/v2/${FUZZ}/blobs/uploads/?mount=${c.layer.digest}&from=${REPO}` },
      { method: 'GET', path: `/v2/${FUZZ}/referrers/${m.digest}?artifactType=x` },
      { method: 'PUT', path: `/v2/${FUZZ}/manifests/fz`, headers: { 'content-type': OCI_MANIFEST }, body: m.bytes },
      { method: 'GET', path: c.signedPath },
    ];
    const t = rng.pick(templates);
    const chars = ['/', '%', '%00', '%2F', '%2e', '%ff', '?', '#', '&', '=', ';', ':', '@', '.', '..', '-', '_', 'A', 'z', '9', '~', '\xff', '\x80', '\xc3\xa9', '\x7f', '[', ']', '{', '}', '|', '"', "'", '<', '>', '`', '^', '\\', '+', '*', '!', '$', ','];
    let path = t.path;
    for (let i = rng.range(1, 4); i > 0; i--) {
      const pos = rng.int(path.length + 1);
      const op = rng.int(4);
      if (op === 0) path = path.slice(0, pos) + rng.pick(chars) + path.slice(pos);
      else if (op === 1) path = path.slice(0, pos) + path.slice(pos + 1);
      else if (op === 2) path = path.slice(0, pos) + rng.pick(chars).repeat(rng.range(2, 300)) + path.slice(pos);
      else {
        const segs = path.split('/');
        const j = rng.int(segs.length);
        segs[j] = rng.pick(['', '.', '..', 'x'.repeat(rng.range(1, 400)), '%2F', 'blobs', 'manifests', 'uploads', 'tags', 'list', '_catalog']);
        path = segs.join('/');
      }
    }
    if (!path.startsWith('/')) path = `/${path}`;
    const method = rng.chance(0.25) ? rng.pick(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']) : t.method;
    const headers: Record<string, string> = { ...(t.headers as Record<string, string> | undefined) };
    if (rng.chance(0.3)) {
      const [k, vals] = rng.pick([
        ['range', ['bytes=0-1', 'bytes=x', 'bytes=5-1', 'bytes=0-', '']],
        ['content-range', ['0-1', 'abc', '5-2', 'bytes=0-1']],
        ['accept', ['*/*', ';;', OCI_INDEX, 'x'.repeat(3000)]],
        ['content-type', [OCI_MANIFEST, OCI_INDEX, ';;', '\xff']],
        ['authorization', ['Bearer x', 'Basic ???']],
      ] as const);
      headers[k] = rng.pick(vals);
    }
    const body = method === 'PUT' || method === 'PATCH' || method === 'POST' ? (t.body && rng.chance(0.5) ? t.body : rng.bytes(rng.int(2000))) : undefined;
    await h.req({ method, path, headers, body }, ANY);
  });
}
