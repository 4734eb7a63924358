// podman (Debian's package) against the registry under test: load an OCI archive, push (POST -> one
// PATCH with the whole layer -> PUT ?digest=), rmi, pull back. podman stores layers uncompressed and
// compresses them again on push, so layer blob digests are new; what must survive is the image ID
// (config digest), the diff IDs, and the manifest digest, which must equal what podman push wrote
// to its digest file and what the registry serves. Isolation flags: see test/support/clients/podman.ts.
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createPodman, toolGate } from '../support/clients.ts';
import { makeOciImage, toOciArchive } from '../support/images.ts';
import { fetchBlob, getManifest, headManifest, sha256, startTarget, tempDir, withRegistryLogs } from './helpers.ts';

const gate = toolGate(['podman', 'skopeo']);
const KiB = 1024;
const MiB = 1024 * 1024;

interface Inspect {
  Id: string;
  Digest: string;
  RepoDigests: string[];
  RootFS: { Layers: string[] };
}

test('podman: load, push (one PATCH per blob), rmi, pull, compare image ID and digests', { timeout: 90_000 }, async (t) => {
  gate.check(t);
  const target = await startTarget(t);
  const work = await tempDir(t, 'podman');
  const podman = await createPodman();
  t.onTestFinished(() => podman.close());

  await withRegistryLogs(target, async () => {
    const img = await makeOciImage(join(work, 'layout'), { layerSizes: [256 * KiB, 6 * MiB, 1 * MiB], gzip: true });
    const archive = await toOciArchive(img, join(work, 'image.oci.tar'), 'v1');
    const diffIds = img.layers.map((l) => l.diffId);
    const ref = `${target.host}/e2e/podman:v1`;
    const inspect = async (r: string): Promise<Inspect> => {
      const list = JSON.parse((await podman.run(['image', 'inspect', r])).text) as Inspect[];
      assert.equal(list.length, 1);
      return list[0]!;
    };

    await podman.run(['load', '-i', archive]);
    const imageId = img.configDigest.slice('sha256:'.length);
    const loaded = await inspect(imageId);
    assert.deepEqual(loaded.RootFS.Layers, diffIds, 'diff IDs after podman load');

    await podman.run(['tag', imageId, ref]);
    const digestFile = join(work, 'pushed.digest');
    await podman.run(['push', '--tls-verify=false', '--digestfile', digestFile, ref]);
    const pushedDigest = (await readFile(digestFile, 'utf8')).trim();
    assert.match(pushedDigest, /^sha256:[0-9a-f]{64}$/, 'podman push wrote a digest');

    const head = await headManifest(target, 'e2e/podman', 'v1');
    assert.equal(head.status, 200, 'HEAD manifest after podman push');
    assert.equal(head.digest, pushedDigest, 'registry Docker-Content-Digest vs the digest podman push wrote');
    const got = await getManifest(target, 'e2e/podman', 'v1');
    assert.equal(got.status, 200, 'GET manifest');
    assert.equal(sha256(got.body), pushedDigest, 'sha256 of the manifest body');
    const manifest = JSON.parse(got.body.toString()) as { config: { digest: string }; layers: { digest: string; size: number }[] };
    assert.equal(manifest.config.digest, img.configDigest, 'config digest in the pushed manifest');
    assert.equal(manifest.layers.length, img.layers.length, 'layer count in the pushed manifest');
    for (const [i, layer] of manifest.layers.entries()) {
      const blob = await fetchBlob(target, 'e2e/podman', layer.digest, { gunzip: true });
      assert.equal(blob.status, 200, `GET layer ${i}`);
      assert.equal(blob.digest, layer.digest, `sha256 of layer ${i} served by the registry`);
      assert.equal(blob.size, layer.size, `size of layer ${i}`);
      assert.equal(blob.uncompressedDigest, diffIds[i], `diff ID of layer ${i} served by the registry`);
    }

    await podman.run(['rmi', '--force', ref, imageId]);
    const gone = await podman.run(['image', 'exists', imageId], { allowFail: true });
    assert.notEqual(gone.code, 0, 'image still present after podman rmi');

    await podman.run(['pull', '--tls-verify=false', ref]);
    const pulled = await inspect(ref);
    assert.equal(pulled.Id, imageId, 'image ID after podman pull');
    assert.deepEqual(pulled.RootFS.Layers, diffIds, 'diff IDs after podman pull');
    assert.equal(pulled.Digest, pushedDigest, 'manifest digest after podman pull');
  });
});
