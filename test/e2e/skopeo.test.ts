// skopeo (Debian's package) against the registry under test: push (POST -> PATCH -> PUT), inspect,
// list-tags, pull back, multi-arch index with --all, cross-repo mount, delete. Every transfer is
// checked by digest: what went up must come back byte-identical. --preserve-digests keeps skopeo
// from recompressing, so the digests of the generated images are the ones the registry must serve.
import { test, type TestContext } from 'vitest';
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createSkopeo, toolGate, type Skopeo } from '../support/clients.ts';
import { makeOciImage, makeOciIndex } from '../support/images.ts';
import { fetchBlob, getManifest, headManifest, sha256, startTarget, tempDir, verifyLayout, withRegistryLogs, type Target } from './helpers.ts';

const gate = toolGate(['skopeo']);
const KiB = 1024;
const MiB = 1024 * 1024;

interface Ctx {
  target: Target;
  skopeo: Skopeo;
  work: string;
}

/** Fresh registry, fresh skopeo (own blob-info cache), fresh work dir; all cleaned up after. */
async function setup(t: TestContext): Promise<Ctx> {
  gate.check(t);
  const target = await startTarget(t);
  const skopeo = await createSkopeo();
  t.onTestFinished(() => skopeo.close());
  const work = await tempDir(t, 'skopeo');
  return { target, skopeo, work };
}

test('skopeo: push, inspect, list-tags and pull back a multi-layer image', { timeout: 30_000 }, async (t) => {
  const { target, skopeo, work } = await setup(t);
  await withRegistryLogs(target, async () => {
    const img = await makeOciImage(join(work, 'src'), { layerSizes: [256 * KiB, 1 * MiB, 2 * MiB], gzip: true });
    const ref = `docker://${target.host}/e2e/app`;

    const digestFile = join(work, 'pushed.digest');
    await skopeo.run(['copy', '--preserve-digests', '--dest-tls-verify=false', '--digestfile', digestFile, `oci:${img.layoutDir}:v1`, `${ref}:v1`]);
    assert.equal((await readFile(digestFile, 'utf8')).trim(), img.manifestDigest, 'digest skopeo reports for the push');
    // The run really used its own blob-info cache (so it cannot reuse locations from other runs).
    assert.ok((await stat(skopeo.blobInfoCache)).isFile(), `skopeo blob-info cache not at ${skopeo.blobInfoCache}`);

    const head = await headManifest(target, 'e2e/app', 'v1');
    assert.equal(head.status, 200, 'HEAD manifest by tag');
    assert.equal(head.digest, img.manifestDigest, 'Docker-Content-Digest of HEAD manifest');

    const inspect = JSON.parse((await skopeo.run(['inspect', '--tls-verify=false', `${ref}:v1`])).text) as {
      Digest: string;
      Layers: string[];
      Architecture: string;
      Os: string;
    };
    assert.equal(inspect.Digest, img.manifestDigest, 'skopeo inspect Digest');
    assert.deepEqual(inspect.Layers, img.layers.map((l) => l.digest), 'skopeo inspect Layers');
    assert.equal(inspect.Architecture, 'amd64');
    assert.equal(inspect.Os, 'linux');

    const raw = await skopeo.run(['inspect', '--raw', '--tls-verify=false', `${ref}:v1`]);
    assert.equal(sha256(raw.stdout), img.manifestDigest, 'sha256 of the raw manifest skopeo got');

    // A second tag of the same image: every blob is already there.
    await skopeo.run(['copy', '--preserve-digests', '--dest-tls-verify=false', `oci:${img.layoutDir}:v1`, `${ref}:v2`]);
    const tags = JSON.parse((await skopeo.run(['list-tags', '--tls-verify=false', ref])).text) as { Tags: string[] };
    assert.deepEqual([...tags.Tags].sort(), ['v1', 'v2'], 'skopeo list-tags');

    const out = join(work, 'out');
    await skopeo.run(['copy', '--preserve-digests', '--src-tls-verify=false', `${ref}:v1`, `oci:${out}:v1`]);
    const back = await verifyLayout(out, 'v1');
    const got = back.images[0];
    assert.ok(got);
    assert.equal(back.digest, img.manifestDigest, 'pulled manifest digest');
    assert.equal(got.configDigest, img.configDigest, 'pulled config digest');
    assert.deepEqual(got.layers.map((l) => l.digest), img.layers.map((l) => l.digest), 'pulled layer digests');
    assert.deepEqual(got.layers.map((l) => l.size), img.layers.map((l) => l.size), 'pulled layer sizes');
  });
});

test('skopeo: multi-arch index with --all round-trips index and child digests', { timeout: 30_000 }, async (t) => {
  const { target, skopeo, work } = await setup(t);
  await withRegistryLogs(target, async () => {
    const platforms = [
      { os: 'linux', architecture: 'amd64' },
      { os: 'linux', architecture: 'arm64' },
    ];
    const idx = await makeOciIndex(join(work, 'src'), { platforms, layerSizes: [128 * KiB, 512 * KiB] });
    const ref = `docker://${target.host}/e2e/multi`;

    await skopeo.run(['copy', '--all', '--preserve-digests', '--dest-tls-verify=false', `oci:${idx.layoutDir}:${idx.tag}`, `${ref}:v1`]);

    const raw = await skopeo.run(['inspect', '--raw', '--tls-verify=false', `${ref}:v1`]);
    assert.equal(sha256(raw.stdout), idx.indexDigest, 'sha256 of the raw index skopeo got');
    const index = JSON.parse(raw.text) as { manifests: { digest: string; platform?: { architecture: string } }[] };
    assert.deepEqual(index.manifests.map((m) => m.digest), idx.images.map((i) => i.manifestDigest), 'child manifest digests in the index');
    for (const image of idx.images) {
      const child = await skopeo.run(['inspect', '--raw', '--tls-verify=false', `${ref}@${image.manifestDigest}`]);
      assert.equal(sha256(child.stdout), image.manifestDigest, `raw child manifest ${image.platform.architecture}`);
    }
    const head = await headManifest(target, 'e2e/multi', 'v1');
    assert.equal(head.status, 200, 'HEAD index by tag');
    assert.equal(head.digest, idx.indexDigest, 'Docker-Content-Digest of HEAD index');

    const out = join(work, 'out');
    await skopeo.run(['copy', '--all', '--preserve-digests', '--src-tls-verify=false', `${ref}:v1`, `oci:${out}:v1`]);
    const back = await verifyLayout(out, 'v1');
    assert.equal(back.digest, idx.indexDigest, 'pulled index digest');
    assert.deepEqual(back.children.map((c) => c.digest), idx.images.map((i) => i.manifestDigest), 'pulled child manifest digests');
    for (const [i, image] of idx.images.entries()) {
      const got = back.images[i];
      assert.ok(got, `child ${i} pulled`);
      assert.equal(got.configDigest, image.configDigest, `config digest of ${image.platform.architecture}`);
      assert.deepEqual(got.layers.map((l) => l.digest), image.layers.map((l) => l.digest), `layer digests of ${image.platform.architecture}`);
    }
  });
});

test('skopeo: copy between two repositories mounts the blobs and the target is pullable', { timeout: 30_000 }, async (t) => {
  const { target, skopeo, work } = await setup(t);
  await withRegistryLogs(target, async () => {
    const img = await makeOciImage(join(work, 'src'), { layerSizes: [512 * KiB, 1 * MiB], gzip: true });
    const src = `docker://${target.host}/e2e/source`;
    const dst = `docker://${target.host}/e2e/target`;
    await skopeo.run(['copy', '--preserve-digests', '--dest-tls-verify=false', `oci:${img.layoutDir}:v1`, `${src}:v1`]);

    // skopeo's blob-info cache now knows the layers live in e2e/source, so it asks the registry to
    // mount them into e2e/target (POST /v2/e2e/target/blobs/uploads/?mount=...&from=e2e/source).
    const copy = await skopeo.run(['--debug', 'copy', '--preserve-digests', '--src-tls-verify=false', '--dest-tls-verify=false', `${src}:v1`, `${dst}:v1`]);
    const debug = copy.stderr.split('\n');
    const tried = debug.filter((l) => l.includes('Trying to mount'));
    const mounted = debug.filter((l) => l.includes('mount OK'));
    assert.equal(tried.length, img.layers.length, `skopeo tried a cross-repo mount per layer:\n${tried.join('\n')}`);
    assert.equal(
      mounted.length,
      img.layers.length,
      `every layer mounted (201); skopeo's mount log:\n${debug.filter((l) => /mount|upload/i.test(l)).join('\n')}`,
    );

    const raw = await skopeo.run(['inspect', '--raw', '--tls-verify=false', `${dst}:v1`]);
    assert.equal(sha256(raw.stdout), img.manifestDigest, 'target manifest digest');
    for (const blob of [{ digest: img.configDigest }, ...img.layers]) {
      const got = await fetchBlob(target, 'e2e/target', blob.digest);
      assert.equal(got.status, 200, `GET blob ${blob.digest} from the target repo`);
      assert.equal(got.digest, blob.digest, `bytes of ${blob.digest} from the target repo`);
    }

    const out = join(work, 'out');
    await skopeo.run(['copy', '--preserve-digests', '--src-tls-verify=false', `${dst}:v1`, `oci:${out}:v1`]);
    const back = await verifyLayout(out, 'v1');
    assert.equal(back.digest, img.manifestDigest, 'pulled target manifest digest');
    assert.equal(back.images[0]?.configDigest, img.configDigest, 'pulled target config digest');
    assert.deepEqual(back.images[0]?.layers.map((l) => l.digest), img.layers.map((l) => l.digest), 'pulled target layer digests');
  });
});

test('skopeo: delete by digest, then the manifest is gone', { timeout: 30_000 }, async (t) => {
  const { target, skopeo, work } = await setup(t);
  await withRegistryLogs(target, async () => {
    const img = await makeOciImage(join(work, 'src'), { layerSizes: [256 * KiB], gzip: true });
    const ref = `docker://${target.host}/e2e/app`;
    await skopeo.run(['copy', '--preserve-digests', '--dest-tls-verify=false', `oci:${img.layoutDir}:v1`, `${ref}:v1`]);
    const before = await getManifest(target, 'e2e/app', img.manifestDigest);
    assert.equal(before.status, 200, 'manifest present before delete');
    assert.equal(sha256(before.body), img.manifestDigest);

    await skopeo.run(['delete', '--tls-verify=false', `${ref}@${img.manifestDigest}`]);

    const byDigest = await getManifest(target, 'e2e/app', img.manifestDigest);
    assert.equal(byDigest.status, 404, `GET manifest by digest after delete: ${byDigest.body.toString().slice(0, 300)}`);
    const byTag = await getManifest(target, 'e2e/app', 'v1');
    assert.equal(byTag.status, 404, `GET manifest by the tag that pointed at it: ${byTag.body.toString().slice(0, 300)}`);
  });
});
