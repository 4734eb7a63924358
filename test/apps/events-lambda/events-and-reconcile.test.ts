// Recording edge uploads: the S3 ObjectCreated handler, the manifest PUT that arrives before the event,
// events delivered twice or late, and tenants that must not reach each other's blobs by digest.
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { edgeUploadKey, parseEdgeUploadKey } from '../../../functions/adapters/s3/edge-upload-keys.ts';
import { createEventsHandler } from '../../../functions/apps/events-lambda/handler.ts';
import { decodeEventKey, recordEdgeUploads, type EventDeps } from '../../../functions/apps/events-lambda/record.ts';
import { edgeRegistry, imageManifest, s3Event, sha256, tenantAuthorizer, type EdgeRegistry } from '../../edge/edge-bucket.ts';

let r: EdgeRegistry;
let deps: EventDeps;
beforeEach(async () => {
  r = await edgeRegistry(tenantAuthorizer);
  deps = { metadata: r.metadata, blobs: r.blobs, now: Date.now };
});
afterEach(async () => {
  await r.close();
});

const errorCode = (res: { body?: unknown }): string => (JSON.parse(String(res.body)) as { errors: { code: string }[] }).errors[0]!.code;

describe('edge upload keys', () => {
  it('round-trip, and only verified sha256 keys of valid repositories parse', () => {
    const d = sha256('x');
    expect(edgeUploadKey('team/app', d)).toBe(`blobs/r/team/app/sha256/${d.slice(7)}`);
    expect(parseEdgeUploadKey(edgeUploadKey('team/sub/app', d))).toEqual({ repo: 'team/sub/app', digest: d });
    for (const key of [
      `blobs/sha256/${d.slice(7)}`,
      `blobs/r/sha256/${d.slice(7)}`,
      `blobs/r/Team/app/sha256/${d.slice(7)}`,
      `blobs/r/team/app/sha512/${'ab'.repeat(64)}`,
      `blobs/r/team/app/sha256/${d.slice(8)}`,
      `blobs/r/team/app/sha256/${d.slice(7)}/x`,
      `uploads/${d.slice(7)}`,
    ]) {
      expect(parseEdgeUploadKey(key), key).toBeUndefined();
    }
    expect(decodeEventKey('blobs/r/a+b%2Fc')).toBe('blobs/r/a b/c');
    expect(decodeEventKey('%E0%A4%A')).toBeUndefined();
  });
});

describe('the S3 ObjectCreated handler', () => {
  it('records the blob with the event size and links it into the repository of the key only', async () => {
    const bytes = randomBytes(3000);
    const event = r.blobs.edgePut('tenant-a/app', bytes);
    const summary = await createEventsHandler(() => deps)(event);
    expect(summary).toEqual({ recorded: 1, duplicates: 0, ignored: 0 });
    const key = edgeUploadKey('tenant-a/app', sha256(bytes));
    expect(await r.metadata.getBlob(sha256(bytes))).toMatchObject({ digest: sha256(bytes), size: 3000, location: key });
    expect(await r.metadata.getLinkedBlob('tenant-a/app', sha256(bytes))).toMatchObject({ size: 3000, location: key });
    expect(await r.metadata.getLinkedBlob('tenant-b/app', sha256(bytes))).toBeUndefined();
    const head = await r.request('HEAD', `/v2/tenant-a/app/blobs/${sha256(bytes)}`);
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe('3000');
  });

  it('URL-decodes keys and ignores other keys and other events', async () => {
    const bytes = randomBytes(10);
    const key = edgeUploadKey('tenant-a/app', sha256(bytes));
    r.blobs.edgePut('tenant-a/app', bytes); // the object the first event announces
    const outcomes = await recordEdgeUploads(
      deps,
      s3Event([
        { key, size: 10, encode: true },
        { key: `blobs/sha256/ab/${sha256(bytes).slice(7)}`, size: 10 },
        { key: `uploads/${sha256(bytes).slice(7)}`, size: 10 },
        { key: edgeUploadKey('tenant-a/other', sha256(bytes)), size: 10, eventName: 'ObjectRemoved:Delete' },
        { key: '%E0%A4%A', size: 10 },
      ]),
    );
    expect(outcomes.map((o) => o.result)).toEqual(['recorded', 'ignored', 'ignored', 'ignored', 'ignored']);
    expect(await r.metadata.getLinkedBlob('tenant-a/app', sha256(bytes))).toMatchObject({ location: key });
    expect(await r.metadata.getLinkedBlob('tenant-a/other', sha256(bytes))).toBeUndefined();
  });

  it('does not link an upload over its project\'s storage quota (ignored: delivering it again changes nothing); the manifest PUT then says why', async () => {
    const bytes = randomBytes(3000);
    const event = r.blobs.edgePut('tenant-a/app', bytes);
    const limited: EventDeps = { ...deps, quotas: async (repo) => (repo.startsWith('tenant-a/') ? 1000 : undefined) };
    expect(await createEventsHandler(() => limited)(event)).toEqual({ recorded: 0, duplicates: 0, ignored: 1 });
    expect(await recordEdgeUploads(limited, event)).toMatchObject([{ result: 'ignored', reason: 'over the storage quota of project tenant-a' }]);
    expect(await r.metadata.getLinkedBlob('tenant-a/app', sha256(bytes))).toBeUndefined();
    expect(await r.metadata.projectUsage('tenant-a')).toEqual({ bytes: 0, blobs: 0 });
  });

  it('ignores an event whose object is gone (a GC run deleted an edge copy nobody recorded)', async () => {
    const bytes = randomBytes(10);
    const outcomes = await recordEdgeUploads(deps, s3Event([{ key: edgeUploadKey('tenant-a/app', sha256(bytes)), size: 10 }]));
    expect(outcomes).toMatchObject([{ result: 'ignored', reason: 'object no longer exists' }]);
    expect(await r.metadata.getBlob(sha256(bytes))).toBeUndefined();
  });

  it('is idempotent: the same event twice records and links once, and deletes nothing', async () => {
    const bytes = randomBytes(100);
    const event = r.blobs.edgePut('tenant-a/app', bytes);
    const handler = createEventsHandler(() => deps);
    await handler(event);
    const first = await r.metadata.getBlob(sha256(bytes));
    expect(await handler(event)).toEqual({ recorded: 1, duplicates: 0, ignored: 0 });
    expect(await r.metadata.getBlob(sha256(bytes))).toEqual(first);
    expect(r.blobs.deleted).toEqual([]);
    expect(r.blobs.objects.has(edgeUploadKey('tenant-a/app', sha256(bytes)))).toBe(true);
  });

  it("a second repository's upload of the same bytes is a duplicate: its object is deleted and it links the first copy", async () => {
    const bytes = randomBytes(500);
    const handler = createEventsHandler(() => deps);
    await handler(r.blobs.edgePut('tenant-a/app', bytes));
    expect(await handler(r.blobs.edgePut('tenant-b/app', bytes))).toEqual({ recorded: 0, duplicates: 1, ignored: 0 });
    const a = edgeUploadKey('tenant-a/app', sha256(bytes));
    expect(r.blobs.deleted).toEqual([edgeUploadKey('tenant-b/app', sha256(bytes))]);
    expect(await r.metadata.getLinkedBlob('tenant-b/app', sha256(bytes))).toMatchObject({ location: a });
    expect(r.blobs.objects.has(a)).toBe(true);
  });

  it('a record that cannot be recorded fails the invocation after the others were recorded', async () => {
    const good = randomBytes(10);
    const bad = randomBytes(11);
    const event = s3Event([...r.blobs.edgePut('tenant-a/app', bad).Records, ...r.blobs.edgePut('tenant-a/app', good).Records].map((x) => ({ key: x.s3.object.key, size: x.s3.object.size })));
    const failing: EventDeps = {
      ...deps,
      metadata: new Proxy(r.metadata, {
        get(target, prop, receiver) {
          if (prop === 'putBlob') return async (b: { digest: string }) => (b.digest === sha256(bad) ? Promise.reject(new Error('ProvisionedThroughputExceeded')) : target.putBlob(b as never));
          const v = Reflect.get(target, prop, receiver) as unknown;
          return typeof v === 'function' ? v.bind(target) : v;
        },
      }),
    };
    await expect(createEventsHandler(() => failing)(event)).rejects.toThrow(/1 of 2 edge uploads/);
    expect(await r.metadata.getLinkedBlob('tenant-a/app', sha256(good))).toBeDefined();
    expect(await r.metadata.getLinkedBlob('tenant-a/app', sha256(bad))).toBeUndefined();
  });
});

describe('manifest PUT racing the event', () => {
  it('a manifest PUT right after the edge PUTs, before any event, is accepted and links the blobs', async () => {
    const config = randomBytes(200);
    const layers = [randomBytes(5000), randomBytes(7000)];
    const events = [config, ...layers].map((b) => r.blobs.edgePut('tenant-a/app', b));
    const res = await r.putManifest('tenant-a/app', 'v1', imageManifest(config, layers), 'tenant-a');
    expect(res.status).toBe(201);
    for (const b of [config, ...layers]) {
      expect(await r.metadata.getLinkedBlob('tenant-a/app', sha256(b))).toMatchObject({ size: b.length, location: edgeUploadKey('tenant-a/app', sha256(b)) });
    }
    // The events arrive late, and one of them twice: nothing changes, nothing is deleted.
    const before = await Promise.all([config, ...layers].map((b) => r.metadata.getBlob(sha256(b))));
    const handler = createEventsHandler(() => deps);
    for (const e of [...events, events[1]!]) expect(await handler(e)).toEqual({ recorded: 1, duplicates: 0, ignored: 0 });
    expect(await Promise.all([config, ...layers].map((b) => r.metadata.getBlob(sha256(b))))).toEqual(before);
    expect(r.blobs.deleted).toEqual([]);
    const pulled = await r.request('GET', `/v2/tenant-a/app/blobs/${sha256(layers[0]!)}`);
    expect(pulled.status).toBe(307);
    expect(pulled.headers.location).toBe(`https://bucket.example/${edgeUploadKey('tenant-a/app', sha256(layers[0]!))}`);
  });

  it('with the event delivered first, the manifest PUT finds the link and asks storage nothing', async () => {
    const config = randomBytes(20);
    const layer = randomBytes(30);
    const handler = createEventsHandler(() => deps);
    for (const b of [config, layer]) await handler(r.blobs.edgePut('tenant-a/app', b));
    const lookups = r.blobs.lookups;
    expect((await r.putManifest('tenant-a/app', 'v1', imageManifest(config, [layer]))).status).toBe(201);
    expect(r.blobs.lookups).toBe(lookups);
  });

  it('the event of a duplicate copy recorded between the link read and the storage lookup: still accepted', async () => {
    // The blob is known already (another repository of the tenant pushed it); this repository's edge
    // copy is a duplicate, which the event links and then deletes. Run that whole event between the
    // manifest PUT's reference read and its lookup of the copy: the copy is gone, the link is there.
    const config = randomBytes(40);
    const handler = createEventsHandler(() => deps);
    await handler(r.blobs.edgePut('tenant-a/first', config));
    const late = r.blobs.edgePut('tenant-a/second', config);
    const lookup = r.blobs.findRepoUpload.bind(r.blobs);
    // Once: the events handler looks the copy up through findRepoUpload itself.
    let raced = false;
    r.blobs.findRepoUpload = async (repo, digest) => {
      if (!raced) {
        raced = true;
        expect(await handler(late)).toEqual({ recorded: 0, duplicates: 1, ignored: 0 });
      }
      return lookup(repo, digest);
    };
    const res = await r.putManifest('tenant-a/second', 'v1', imageManifest(config, []));
    expect(res.status).toBe(201);
    expect(r.blobs.deleted).toEqual([edgeUploadKey('tenant-a/second', sha256(config))]);
    expect(await r.metadata.getLinkedBlob('tenant-a/second', sha256(config))).toMatchObject({ location: edgeUploadKey('tenant-a/first', sha256(config)) });
  });

  it("an index listing blobs (BuildKit's registry cache) is reconciled the same way", async () => {
    const blob = randomBytes(900);
    r.blobs.edgePut('tenant-a/cache', blob);
    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256(blob), size: blob.length }],
      }),
    );
    const res = await r.request('PUT', '/v2/tenant-a/cache/manifests/buildcache', { body: index, headers: { 'content-type': 'application/vnd.oci.image.index.v1+json' } });
    expect(res.status).toBe(201);
    expect(await r.metadata.getLinkedBlob('tenant-a/cache', sha256(blob))).toMatchObject({ size: 900 });
  });

  it('a blob neither uploaded nor announced is still MANIFEST_BLOB_UNKNOWN; a size that disagrees is MANIFEST_INVALID', async () => {
    const config = randomBytes(20);
    const layer = randomBytes(30);
    r.blobs.edgePut('tenant-a/app', config);
    const res = await r.putManifest('tenant-a/app', 'v1', imageManifest(config, [layer]));
    expect(res.status).toBe(404);
    expect(errorCode(res)).toBe('MANIFEST_BLOB_UNKNOWN');
    r.blobs.edgePut('tenant-a/app', layer);
    const wrong = JSON.parse(imageManifest(config, [layer]).toString()) as { layers: { size: number }[] };
    wrong.layers[0]!.size += 1;
    const bad = await r.putManifest('tenant-a/app', 'v2', Buffer.from(JSON.stringify(wrong)));
    expect(bad.status).toBe(400);
    expect(errorCode(bad)).toBe('MANIFEST_INVALID');
  });
});

describe('tenants', () => {
  it("repo B referencing A's edge-uploaded digest gets MANIFEST_BLOB_UNKNOWN, before and after A's event", async () => {
    const config = randomBytes(40);
    const layer = randomBytes(4000);
    const events = [config, layer].map((b) => r.blobs.edgePut('tenant-a/app', b));
    const check = async (): Promise<void> => {
      const res = await r.putManifest('tenant-b/app', 'stolen', imageManifest(config, [layer]), 'tenant-b');
      expect(res.status).toBe(404);
      expect(errorCode(res)).toBe('MANIFEST_BLOB_UNKNOWN');
      for (const method of ['GET', 'HEAD']) expect((await r.request(method, `/v2/tenant-b/app/blobs/${sha256(layer)}`, { headers: { 'x-tenant': 'tenant-b' } })).status).toBe(404);
      expect(await r.metadata.getLinkedBlob('tenant-b/app', sha256(layer))).toBeUndefined();
    };
    await check();
    for (const e of events) await createEventsHandler(() => deps)(e);
    await check();
    // A itself can use them.
    expect((await r.putManifest('tenant-a/app', 'v1', imageManifest(config, [layer]), 'tenant-a')).status).toBe(201);
  });

  it("a mount of A's edge upload into B without pull rights on A is an upload session, not the blob", async () => {
    const layer = randomBytes(1000);
    await createEventsHandler(() => deps)(r.blobs.edgePut('tenant-a/app', layer));
    const res = await r.request('POST', '/v2/tenant-b/app/blobs/uploads/', { query: `mount=${sha256(layer)}&from=tenant-a/app`, headers: { 'x-tenant': 'tenant-b' } });
    expect(res.status).toBe(202);
    expect(await r.metadata.getLinkedBlob('tenant-b/app', sha256(layer))).toBeUndefined();
    // With pull rights on A (an unrestricted principal) the mount links it.
    const allowed = await r.request('POST', '/v2/tenant-b/app/blobs/uploads/', { query: `mount=${sha256(layer)}&from=tenant-a/app` });
    expect(allowed.status).toBe(201);
  });

  it('B uploading the same bytes itself at the edge proves possession: its manifest is accepted', async () => {
    const config = randomBytes(40);
    const layer = randomBytes(4000);
    const handler = createEventsHandler(() => deps);
    for (const b of [config, layer]) await handler(r.blobs.edgePut('tenant-a/app', b));
    for (const b of [config, layer]) r.blobs.edgePut('tenant-b/app', b);
    expect((await r.putManifest('tenant-b/app', 'v1', imageManifest(config, [layer]), 'tenant-b')).status).toBe(201);
    // B's copies were duplicates of A's: deleted, and B reads A's first copy.
    expect(await r.metadata.getLinkedBlob('tenant-b/app', sha256(layer))).toMatchObject({ location: edgeUploadKey('tenant-a/app', sha256(layer)) });
    expect(r.blobs.objects.has(edgeUploadKey('tenant-b/app', sha256(layer)))).toBe(false);
  });
});

describe('blob requests racing the event (the client HEADs or GETs right after the edge 201)', () => {
  const repo = 'tenant-a/app';
  /** POST /v2/<repo>/blobs/uploads/: the session whose token the edge accepts. */
  async function session(): Promise<string> {
    const res = await r.request('POST', `/v2/${repo}/blobs/uploads/`);
    expect(res.status).toBe(202);
    return String(res.headers['docker-upload-uuid']);
  }
  const head = async (digest: string): Promise<number> => (await r.request('HEAD', `/v2/${repo}/blobs/${digest}`)).status;
  const uploadStatus = async (id: string): Promise<unknown> => r.metadata.getUpload(id);

  it('HEAD before the event records and links the blob with one storage lookup and ends the session; the late event then changes nothing', async () => {
    const bytes = randomBytes(300);
    const id = await session();
    const event = r.blobs.edgePut(repo, bytes, sha256(bytes), id);
    const before = r.blobs.lookups;
    const res = await r.request('HEAD', `/v2/${repo}/blobs/${sha256(bytes)}`);
    expect(res.status).toBe(200);
    expect(res.headers['content-length']).toBe('300');
    expect(r.blobs.lookups - before).toBe(1);
    expect(await uploadStatus(id)).toBeUndefined();
    expect(await createEventsHandler(() => deps)(event)).toEqual({ recorded: 0, duplicates: 0, ignored: 1 });
    expect(await head(sha256(bytes))).toBe(200);
    // Linked: the next HEAD asks storage nothing.
    const linked = r.blobs.lookups;
    expect(await head(sha256(bytes))).toBe(200);
    expect(r.blobs.lookups).toBe(linked);
  });

  it('GET before the event answers the 307; a digest never uploaded is still 404 after one lookup', async () => {
    const bytes = randomBytes(50);
    r.blobs.edgePut(repo, bytes, sha256(bytes), await session());
    const res = await r.request('GET', `/v2/${repo}/blobs/${sha256(bytes)}`);
    expect(res.status).toBe(307);
    expect(String(res.headers.location)).toContain(edgeUploadKey(repo, sha256(bytes)));
    expect(await head(sha256(randomBytes(8)))).toBe(404);
  });

  it("another repository's edge upload of the digest is not found by a HEAD", async () => {
    const bytes = randomBytes(40);
    r.blobs.edgePut('tenant-b/app', bytes, sha256(bytes), await session());
    expect(await head(sha256(bytes))).toBe(404);
  });

  it('DELETE before the event unlinks it for good: neither the late event nor a later HEAD links it again', async () => {
    const bytes = randomBytes(70);
    const event = r.blobs.edgePut(repo, bytes, sha256(bytes), await session());
    expect((await r.request('DELETE', `/v2/${repo}/blobs/${sha256(bytes)}`)).status).toBe(202);
    expect(await head(sha256(bytes))).toBe(404);
    expect(await createEventsHandler(() => deps)(event)).toEqual({ recorded: 0, duplicates: 0, ignored: 1 });
    expect(await head(sha256(bytes))).toBe(404);
    expect(await r.metadata.getLinkedBlob(repo, sha256(bytes))).toBeUndefined();
  });

  it('DELETE after the event, then the same bytes pushed again at the edge by a new session: linked again at once', async () => {
    const bytes = randomBytes(90);
    await createEventsHandler(() => deps)(r.blobs.edgePut(repo, bytes, sha256(bytes), await session()));
    expect((await r.request('DELETE', `/v2/${repo}/blobs/${sha256(bytes)}`)).status).toBe(202);
    expect(await head(sha256(bytes))).toBe(404);
    const again = r.blobs.edgePut(repo, bytes, sha256(bytes), await session());
    expect(await head(sha256(bytes))).toBe(200);
    expect(await createEventsHandler(() => deps)(again)).toEqual({ recorded: 0, duplicates: 0, ignored: 1 });
    expect(await head(sha256(bytes))).toBe(200);
  });

  it('a mount from a repository whose edge upload is not recorded yet links it into both', async () => {
    const bytes = randomBytes(60);
    r.blobs.edgePut(repo, bytes, sha256(bytes), await session());
    const res = await r.request('POST', '/v2/tenant-a/other/blobs/uploads/', { query: `mount=${encodeURIComponent(sha256(bytes))}&from=${encodeURIComponent(repo)}` });
    expect(res.status).toBe(201);
    expect(await head(sha256(bytes))).toBe(200);
    expect((await r.request('HEAD', `/v2/tenant-a/other/blobs/${sha256(bytes)}`)).status).toBe(200);
  });
});
