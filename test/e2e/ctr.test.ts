// containerd (Debian's package) with ctr against the registry under test: containerd's push path
// (HEAD blob -> POST -> one monolithic PUT per blob with the whole body, layers in parallel), then
// a pull into an empty content store. Digests of what went up are compared with what came back,
// and every blob is fetched again through the registry API and hashed.
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startContainerd, startOrSkip, toolGate } from '../support/clients.ts';
import { makeOciImage, toOciArchive } from '../support/images.ts';
import { fetchBlob, headManifest, startTarget, tempDir, withRegistryLogs } from './helpers.ts';

const gate = toolGate(['containerd', 'ctr', 'skopeo']);
const MiB = 1024 * 1024;

/** Parses `ctr images ls` (REF TYPE DIGEST ...) into ref -> digest. */
function imageDigests(ls: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of ls.split('\n').slice(1)) {
    const [ref, , digest] = line.trim().split(/\s+/);
    if (ref && digest) out.set(ref, digest);
  }
  return out;
}

/** Parses `ctr content ls` (DIGEST SIZE AGE LABELS) into digest -> labels. */
function contentLabels(ls: string): Map<string, Record<string, string>> {
  const out = new Map<string, Record<string, string>>();
  for (const line of ls.split('\n').slice(1)) {
    const cols = line.trim().split('\t').filter(Boolean);
    const digest = cols[0];
    if (!digest?.startsWith('sha256:')) continue;
    const labels: Record<string, string> = {};
    const last = cols[cols.length - 1] ?? '';
    if (cols.length >= 4 && last !== '') {
      for (const kv of last.split(',')) {
        const i = kv.indexOf('=');
        if (i > 0) labels[kv.slice(0, i)] = kv.slice(i + 1);
      }
    }
    out.set(digest, labels);
  }
  return out;
}

test('ctr: import, push (monolithic PUT), remove, pull back, compare digests', { timeout: 50_000 }, async (t) => {
  gate.check(t);
  const target = await startTarget(t);
  const work = await tempDir(t, 'ctr');
  const ctrd = await startOrSkip(t, () => startContainerd({ namespace: 'e2e' }));
  if (!ctrd) return;
  t.onTestFinished(() => ctrd.stop());

  await withRegistryLogs(target, async () => {
    const img = await makeOciImage(join(work, 'layout'), { layerSizes: [1 * MiB, 3 * MiB, 512 * 1024], gzip: true });
    const archive = await toOciArchive(img, join(work, 'image.oci.tar'), 'v1');
    const name = `${target.host}/e2e/ctr`;
    const ref = `${name}:v1`;
    const { ctr } = ctrd;

    await ctr(['images', 'import', '--no-unpack', '--base-name', name, archive]);
    assert.equal(imageDigests((await ctr(['images', 'ls'])).text).get(ref), img.manifestDigest, `imported ${ref}`);

    await ctr(['images', 'push', '--plain-http', ref]);
    const head = await headManifest(target, 'e2e/ctr', 'v1');
    assert.equal(head.status, 200, 'HEAD manifest after ctr push');
    assert.equal(head.digest, img.manifestDigest, 'registry manifest digest after ctr push');

    // Forget the image and let containerd's GC drop its content, so the pull must fetch everything.
    await ctr(['images', 'rm', '--sync', ref]);
    const left = contentLabels((await ctr(['content', 'ls'])).text);
    for (const d of [img.manifestDigest, img.configDigest, ...img.layers.map((l) => l.digest)]) {
      assert.ok(!left.has(d), `content ${d} still in containerd after images rm --sync`);
    }

    // Pull unpacks too; the native snapshotter works on any filesystem.
    await ctr(['images', 'pull', '--plain-http', '--snapshotter', 'native', ref]);
    assert.equal(imageDigests((await ctr(['images', 'ls'])).text).get(ref), img.manifestDigest, 'pulled manifest digest');
    const check = (await ctr(['images', 'check'])).text;
    const row = check.split('\n').find((l) => l.startsWith(`${ref} `));
    const total = img.layers.length + 1; // config + layers
    assert.match(row ?? '', new RegExp(`complete \\(${total}/${total}\\)`), `ctr images check:\n${check}`);

    // containerd verified every blob's digest while writing it; check the set and the diff IDs it
    // computed while unpacking against what we generated.
    const content = contentLabels((await ctr(['content', 'ls'])).text);
    for (const d of [img.manifestDigest, img.configDigest]) assert.ok(content.has(d), `${d} pulled into containerd`);
    for (const layer of img.layers) {
      const labels = content.get(layer.digest);
      assert.ok(labels, `layer ${layer.digest} pulled into containerd`);
      assert.equal(labels['containerd.io/uncompressed'], layer.diffId, `diff ID of ${layer.digest} after unpack`);
    }

    // And the registry serves every blob byte-exact through its API (GET, following the redirect).
    for (const blob of [{ digest: img.configDigest }, ...img.layers]) {
      const got = await fetchBlob(target, 'e2e/ctr', blob.digest);
      assert.equal(got.status, 200, `GET blob ${blob.digest}`);
      assert.equal(got.digest, blob.digest, `sha256 of blob ${blob.digest} served by the registry`);
    }
  });
});
