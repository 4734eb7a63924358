// Nothing unverified is stored or served: an upstream that sends a blob whose bytes do not match its
// digest, or a manifest whose bytes do not match the digest asked for, gets 502 and nothing is kept
// (a second pull asks the upstream again). The upstream is a small server of the test's own: a lying
// registry is a fault a real one does not produce.
import { expect, test } from 'vitest';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { onlyOnBackend, startRegistry } from '../support/registry.ts';
import { createProxy } from './proxy-helpers.ts';
import { tempDir } from './helpers.ts';

onlyOnBackend('local', 'proxy projects are made here with the admin CLI in a data dir; the AWS shape has its own: test/dev/start-aws/proxy.test.ts');

const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

test('an upstream blob or manifest that does not match its digest: 502, nothing stored, nothing served', async (t) => {
  const good = Buffer.from('the real bytes');
  const blobDigest = sha(good);
  const manifest = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: blobDigest, size: good.length }, layers: [] });
  const wrongManifestDigest = sha('something else');
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    if (req.url === `/v2/lying/blobs/${blobDigest}`) res.writeHead(200, { 'content-length': String(good.length) }).end(Buffer.from('the fake bytes'));
    else if (req.url === `/v2/lying/manifests/${wrongManifestDigest}`) res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' }).end(manifest);
    else if (req.url === '/v2/lying/manifests/v1') res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'docker-content-digest': wrongManifestDigest }).end(manifest);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const dataDir = await tempDir(t, 'proxy-verify');
  await createProxy(dataDir, 'up', `http://127.0.0.1:${(server.address() as { port: number }).port}`);
  const reg = await startRegistry({ dataDir });
  t.onTestFinished(() => reg.stop());

  for (const path of [`/v2/up/lying/blobs/${blobDigest}`, `/v2/up/lying/manifests/${wrongManifestDigest}`, '/v2/up/lying/manifests/v1']) {
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${reg.url}${path}`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
      expect(res.status, path).toBe(502);
      const body = (await res.json()) as { errors: { code: string; detail: { reason: string } }[] };
      expect(body.errors[0]!.code).toBe('UNAVAILABLE');
      expect(body.errors[0]!.detail.reason).toMatch(/digest/);
    }
    // Not stored: the second pull went to the upstream again.
    expect(hits.filter((h) => h === `GET ${path.replace('/v2/up/', '/v2/')}`).length, path).toBe(2);
  }
});
