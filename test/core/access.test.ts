// Authorization through the core on real adapters. Expected access follows the OCI/distribution
// token scopes: `pull` for reads, `pull,push` for writes and every step of an upload, `delete` for
// deletes, `registry:catalog:*` for the catalog, nothing for the version check. A refusal must stop
// the request before its handler runs; a mount links a blob only if `from` may be pulled.
import { describe, it, type TestContext } from 'vitest';
import assert from 'node:assert/strict';
import type { Access, Action, Authorizer, Decision, Principal } from '../../functions/core/access.ts';
import { randomUUID } from 'node:crypto';
import { artifact, OCI_MANIFEST, setup, sha256, utf8 } from './real-adapters.ts';

type Refusal = Extract<Decision, { allowed: false }>;

/** Records what each request asks for; allows, or answers `refusal` when one is set. */
interface Gate extends Authorizer {
  required: Access[][];
  asked: { principal: Principal; access: Access }[];
  refusal: Refusal | undefined;
  canPull: boolean;
}

const ALICE: Principal = { subject: 'alice' };
const R = 'acme/app';
const repo = (name: string, ...actions: Action[]): Access => ({ type: 'repository', name, actions });
const norm = (list: Access[]): Access[] => list.map((a) => ({ ...a, actions: [...a.actions].sort() }) as Access);
const sessions = (f: Fixture) => f.metadata.listExpiredUploads(Number.MAX_SAFE_INTEGER, 1000);

interface Reply {
  status: number;
  headers: Record<string, string>;
  body: Buffer | undefined;
  where: string;
  error(): { code?: string; detail?: unknown } | undefined;
}

/** The core on real adapters (core-real-adapters.ts) behind a recording authorizer. */
async function fixture(t: TestContext) {
  const gate: Gate = {
    required: [],
    asked: [],
    refusal: undefined,
    canPull: true,
    async authorize(_req, required) {
      gate.required.push(structuredClone(required));
      return gate.refusal ?? { allowed: true, principal: ALICE };
    },
    async can(principal, access) {
      gate.asked.push({ principal, access });
      return gate.canPull;
    },
  };
  const f = await setup(t, { authorizer: gate });
  async function call(method: string, url: string, body?: Uint8Array, headers: Record<string, string> = {}): Promise<Reply> {
    const r = await f.call(method, url, { headers, ...(body ? { body } : {}) });
    return {
      status: r.status,
      headers: r.headers,
      body: r.body,
      where: r.where,
      error: () => (r.json() as { errors?: { code?: string; detail?: unknown }[] } | null)?.errors?.[0],
    };
  }
  return { blobs: f.blobs, metadata: f.metadata, gate, call };
}
type Fixture = Awaited<ReturnType<typeof fixture>>;

const D = sha256('some blob');
const S = randomUUID();
const pull = [repo(R, 'pull')];
const push = [repo(R, 'pull', 'push')];
const del = [repo(R, 'delete')];
const endpoints: [method: string, path: string, required: Access[]][] = [
  ['GET', '/v2/', []],
  ['HEAD', '/v2/', []],
  ['GET', '/v2/_catalog', [{ type: 'registry', name: 'catalog', actions: ['*'] }]],
  ['GET', `/v2/${R}/tags/list`, pull],
  ['GET', `/v2/${R}/manifests/latest`, pull],
  ['HEAD', `/v2/${R}/manifests/latest`, pull],
  ['PUT', `/v2/${R}/manifests/latest`, push],
  ['DELETE', `/v2/${R}/manifests/${D}`, del],
  ['GET', `/v2/${R}/referrers/${D}`, pull],
  ['GET', `/v2/${R}/blobs/${D}`, pull],
  ['HEAD', `/v2/${R}/blobs/${D}`, pull],
  ['DELETE', `/v2/${R}/blobs/${D}`, del],
  ['POST', `/v2/${R}/blobs/uploads/`, push],
  ['GET', `/v2/${R}/blobs/uploads/${S}`, push],
  ['PATCH', `/v2/${R}/blobs/uploads/${S}`, push],
  ['PUT', `/v2/${R}/blobs/uploads/${S}?digest=${D}`, push],
  ['DELETE', `/v2/${R}/blobs/uploads/${S}`, push],
];

describe('authorization in the core', () => {
  it('every endpoint asks for exactly the access a token scope would grant for it', async (t) => {
    const f = await fixture(t);
    for (const [method, path, expected] of endpoints) {
      f.gate.required = [];
      const r = await f.call(method, path, method === 'PUT' || method === 'PATCH' ? utf8('{}') : undefined);
      assert.notEqual(r.status, 500, r.where);
      assert.deepEqual(f.gate.required.map(norm), [norm(expected)], `${method} ${path}`);
    }
  });

  it('a 401 carries UNAUTHORIZED and the challenge, a 403 DENIED and the detail, on every endpoint', async (t) => {
    const f = await fixture(t);
    const challenge = 'Bearer realm="https://auth.example/token",service="registry.example",scope="repository:acme/app:pull"';
    const detail = { reason: 'alice may not do this', subject: 'alice' };
    const refusals: [Refusal, string][] = [
      [{ allowed: false, status: 401, challenge }, 'UNAUTHORIZED'],
      [{ allowed: false, status: 403, detail }, 'DENIED'],
    ];
    for (const [refusal, code] of refusals) {
      f.gate.refusal = refusal;
      for (const [method, path] of endpoints) {
        const r = await f.call(method, path, method === 'PUT' || method === 'PATCH' ? utf8('{}') : undefined);
        assert.equal(r.status, refusal.status, r.where);
        assert.equal(r.headers['www-authenticate'], refusal.challenge, r.where);
        if (method === 'HEAD') {
          assert.equal(r.body, undefined, `${r.where}: a HEAD response has no body`);
          continue;
        }
        assert.equal(r.headers['content-type'], 'application/json', r.where);
        assert.equal(r.error()?.code, code, r.where);
        if (refusal.detail !== undefined) assert.deepEqual(r.error()?.detail, refusal.detail, r.where);
      }
    }
  });

  it('a refused request changes nothing: its handler never runs', async (t) => {
    const f = await fixture(t);
    const bytes = utf8('layer bytes');
    const blob = sha256(bytes);
    assert.equal((await f.call('POST', `/v2/${R}/blobs/uploads/?digest=${blob}`, bytes)).status, 201);
    const manifest = artifact('one');
    const put = await f.call('PUT', `/v2/${R}/manifests/v1`, manifest, { 'content-type': OCI_MANIFEST });
    assert.equal(put.status, 201, put.where);
    const session = await f.call('POST', `/v2/${R}/blobs/uploads/`);
    assert.equal(session.status, 202, session.where);
    const loc = session.headers.location ?? '';
    const id = session.headers['docker-upload-uuid'] ?? '';
    const uploadFiles = await f.blobs.listUploadFiles();
    const fresh = utf8('never stored');

    f.gate.refusal = { allowed: false, status: 403, detail: {} };
    const refused: [string, string, Uint8Array?, Record<string, string>?][] = [
      ['PUT', `/v2/${R}/manifests/v2`, artifact('two'), { 'content-type': OCI_MANIFEST }],
      ['PUT', `/v2/${R}/manifests/${sha256(artifact('three'))}`, artifact('three'), { 'content-type': OCI_MANIFEST }],
      ['POST', `/v2/${R}/blobs/uploads/`],
      ['POST', `/v2/${R}/blobs/uploads/?digest=${sha256(fresh)}`, fresh],
      ['POST', `/v2/other/repo/blobs/uploads/?mount=${blob}&from=${R}`],
      ['PATCH', loc, fresh],
      ['PUT', `${loc}&digest=${sha256(fresh)}`, fresh],
      ['DELETE', loc],
      ['DELETE', `/v2/${R}/blobs/${blob}`],
      ['DELETE', `/v2/${R}/manifests/v1`],
      ['DELETE', `/v2/${R}/manifests/${sha256(manifest)}`],
    ];
    for (const [method, url, body, headers] of refused) {
      const r = await f.call(method, url, body, headers);
      assert.equal(r.status, 403, r.where);
    }
    assert.deepEqual(f.gate.asked, [], 'a refused mount never gets as far as can()');

    assert.equal(await f.metadata.getTaggedManifest(R, 'v2'), undefined, 'refused manifest PUT stored nothing');
    assert.equal(await f.metadata.getManifest(R, sha256(artifact('three'))), undefined);
    assert.equal(await f.metadata.getBlob(sha256(fresh)), undefined, 'refused uploads made no blob');
    assert.equal(await f.metadata.getLinkedBlob('other/repo', blob), undefined, 'refused mount linked nothing');
    assert.equal(await f.metadata.repositoryExists('other/repo'), false);
    assert.deepEqual((await sessions(f)).map((s) => [s.id, s.offset]), [[id, 0]], 'no new session; the old one intact and empty');
    assert.deepEqual(await f.blobs.listUploadFiles(), uploadFiles, 'no upload files created or removed');
    assert.equal((await f.metadata.getLinkedBlob(R, blob))?.digest, blob, 'refused blob DELETE left the blob');
    assert.equal((await f.metadata.getTaggedManifest(R, 'v1'))?.digest, sha256(manifest), 'refused manifest DELETEs left it');

    f.gate.refusal = undefined;
    assert.equal((await f.call('HEAD', `/v2/${R}/blobs/${blob}`)).status, 200);
    assert.equal((await f.call('GET', `/v2/${R}/manifests/v1`)).status, 200);
    assert.equal((await f.call('GET', `/v2/${R}/manifests/v2`)).status, 404);
    const status = await f.call('GET', loc);
    assert.equal(status.status, 204, status.where);
    assert.equal(status.headers.range, '0-0', status.where);
  });

  it('a mount needs pull on `from` via can(): refused -> 202 session and no link, allowed -> 201 and linked', async (t) => {
    const f = await fixture(t);
    const bytes = utf8('shared base layer');
    const blob = sha256(bytes);
    assert.equal((await f.call('POST', `/v2/src/lib/blobs/uploads/?digest=${blob}`, bytes)).status, 201);
    const mountUrl = `/v2/${R}/blobs/uploads/?mount=${encodeURIComponent(blob)}&from=src/lib`;
    const sourcePull = { principal: ALICE, access: repo('src/lib', 'pull') };

    f.gate.required = [];
    f.gate.canPull = false;
    const refused = await f.call('POST', mountUrl);
    assert.equal(refused.status, 202, refused.where);
    assert.match(refused.headers.location ?? '', new RegExp(`^/v2/${R}/blobs/uploads/[0-9a-f-]{36}\\?`), refused.where);
    assert.equal(refused.headers['docker-content-digest'], undefined, refused.where);
    assert.equal(await f.metadata.getLinkedBlob(R, blob), undefined, 'not linked into the target');
    assert.equal((await f.call('HEAD', `/v2/${R}/blobs/${blob}`)).status, 404);
    assert.equal((await sessions(f)).length, 1, 'the fallback is a real upload session');
    assert.deepEqual(f.gate.asked.map((a) => ({ ...a, access: norm([a.access])[0] })), [sourcePull]);
    assert.deepEqual(f.gate.required[0]?.map((a) => norm([a])[0]), push, 'the POST itself needs pull,push on the target only');

    f.gate.asked = [];
    f.gate.canPull = true;
    const mounted = await f.call('POST', mountUrl);
    assert.equal(mounted.status, 201, mounted.where);
    assert.equal(mounted.headers.location, `/v2/${R}/blobs/${blob}`);
    assert.equal(mounted.headers['docker-content-digest'], blob);
    assert.equal((await f.metadata.getLinkedBlob(R, blob))?.size, bytes.byteLength, 'linked into the target');
    assert.equal((await f.call('HEAD', `/v2/${R}/blobs/${blob}`)).status, 200);
    assert.equal((await sessions(f)).length, 1, 'a mount opens no session');
    assert.deepEqual(f.gate.asked.map((a) => ({ ...a, access: norm([a.access])[0] })), [sourcePull]);
  });
});
