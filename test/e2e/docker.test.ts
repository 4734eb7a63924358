// Docker (Debian's docker.io: dockerd + docker CLI) against the registry under test: the classic
// push path (POST -> one chunked PATCH with the whole layer -> PUT ?digest=), then rmi and pull.
// One layer is > 10 MiB so the streaming upload and download paths carry real volume.
// Docker stores layers uncompressed and gzips them again on push, so layer blob digests are new;
// what must survive is the image ID (config digest), the diff IDs, and the manifest digest the
// registry reports, which must equal what docker push printed and what docker pull recorded.
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startDockerd, startOrSkip, toolGate } from '../support/clients.ts';
import { makeOciImage, toDockerArchive } from '../support/images.ts';
import { fetchBlob, getManifest, headManifest, sha256, startTarget, tempDir, withRegistryLogs } from './helpers.ts';

const gate = toolGate(['dockerd', 'docker', 'skopeo']);
const KiB = 1024;
const MiB = 1024 * 1024;

interface Inspect {
  Id: string;
  RepoDigests: string[];
  RootFS: { Layers: string[] };
}

test('docker: load, push (chunked PATCH), rmi, pull, compare image ID and digests', { timeout: 75_000 }, async (t) => {
  gate.check(t);
  const target = await startTarget(t);
  const work = await tempDir(t, 'docker');
  const dockerd = await startOrSkip(t, () => startDockerd());
  if (!dockerd) return;
  t.onTestFinished(() => dockerd.stop());

  await withRegistryLogs(target, async () => {
    const img = await makeOciImage(join(work, 'layout'), { layerSizes: [512 * KiB, 12 * MiB, 2 * MiB] });
    const archive = await toDockerArchive(img, join(work, 'image.docker.tar'), 'e2e/load:v1');
    const { docker } = dockerd;
    const ref = `${target.host}/e2e/docker:v1`;
    const inspect = async (r: string): Promise<Inspect> => {
      const list = JSON.parse((await docker(['image', 'inspect', r])).text) as Inspect[];
      assert.equal(list.length, 1);
      return list[0]!;
    };
    const diffIds = img.layers.map((l) => l.diffId);

    await docker(['load', '-i', archive]);
    const loaded = await inspect('e2e/load:v1');
    assert.equal(loaded.Id, img.configDigest, 'image ID after docker load');
    assert.deepEqual(loaded.RootFS.Layers, diffIds, 'diff IDs after docker load');

    await docker(['tag', 'e2e/load:v1', ref]);
    const push = await docker(['push', ref]);
    const pushed = /v1: digest: (sha256:[0-9a-f]{64}) size: (\d+)/.exec(push.text);
    assert.ok(pushed, `docker push printed a digest:\n${push.text}`);
    const pushedDigest = pushed[1]!;

    const head = await headManifest(target, 'e2e/docker', 'v1');
    assert.equal(head.status, 200, 'HEAD manifest after docker push');
    assert.equal(head.digest, pushedDigest, 'registry Docker-Content-Digest vs the digest docker push printed');

    const got = await getManifest(target, 'e2e/docker', 'v1');
    assert.equal(got.status, 200, 'GET manifest');
    assert.equal(sha256(got.body), pushedDigest, 'sha256 of the manifest body');
    const manifest = JSON.parse(got.body.toString()) as { config: { digest: string }; layers: { digest: string; size: number }[] };
    assert.equal(manifest.config.digest, img.configDigest, 'config digest in the pushed manifest');
    assert.equal(manifest.layers.length, img.layers.length, 'layer count in the pushed manifest');
    // Every layer docker uploaded comes back byte-exact, and decompresses to the original tar.
    for (const [i, layer] of manifest.layers.entries()) {
      const blob = await fetchBlob(target, 'e2e/docker', layer.digest, { gunzip: true });
      assert.equal(blob.status, 200, `GET layer ${i}`);
      assert.equal(blob.digest, layer.digest, `sha256 of layer ${i} served by the registry`);
      assert.equal(blob.size, layer.size, `size of layer ${i}`);
      assert.equal(blob.uncompressedDigest, diffIds[i], `diff ID of layer ${i} served by the registry`);
    }
    const config = await fetchBlob(target, 'e2e/docker', img.configDigest);
    assert.equal(config.digest, img.configDigest, 'config blob served by the registry');

    await docker(['rmi', ref, 'e2e/load:v1']);
    const gone = await docker(['image', 'inspect', img.configDigest], { allowFail: true });
    assert.notEqual(gone.code, 0, 'image still present after docker rmi');

    await docker(['pull', ref]);
    const pulled = await inspect(ref);
    assert.equal(pulled.Id, img.configDigest, 'image ID after docker pull');
    assert.deepEqual(pulled.RootFS.Layers, diffIds, 'diff IDs after docker pull');
    assert.deepEqual(pulled.RepoDigests, [`${target.host}/e2e/docker@${pushedDigest}`], 'RepoDigests after docker pull');
  });
});
