// The registry's classifyError hook: an entry point maps backend errors it recognises to OCI errors
// before the catch-all 500; what it does not recognise (or a classifier that throws) stays a 500.
import { afterEach, describe, expect, it } from 'vitest';
import type { TestContext } from 'vitest';
import { allowAll } from '../../functions/core/access.ts';
import { RegistryError } from '../../functions/core/errors.ts';
import { createRegistry } from '../../functions/core/registry.ts';
import { TokenSigner } from '../../functions/core/tokens.ts';
import { artifact, failingMethod, putManifest, setup, type Fixture } from './real-adapters.ts';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});
const ctx = { onTestFinished: (fn: () => unknown) => cleanups.push(fn) } as unknown as TestContext;

class Throttled extends Error {
  override name = 'Throttled';
}

/** f.call() writes through a plain registry; f.registry reads through one whose tag lookups fail. */
async function registryWith(classifyError: (e: unknown) => RegistryError | undefined): Promise<Fixture> {
  const f = await setup(ctx);
  const seen: unknown[] = [];
  const registry = createRegistry({
    metadata: failingMethod(failingMethod(f.metadata, 'getTaggedManifest', new Throttled('slow down')), 'headManifest', new Throttled('slow down')),
    blobs: f.blobs,
    authorizer: allowAll,
    uploadTokens: new TokenSigner(Buffer.alloc(32, 1)),
    onError: (e) => seen.push(e),
    classifyError,
  });
  return { ...f, registry, errors: seen as Fixture['errors'] };
}

async function get(registry: Fixture['registry'], method: 'GET' | 'HEAD', path: string) {
  return registry({ method, path, query: new URLSearchParams(), headers: {} });
}

describe('createRegistry classifyError', () => {
  it('turns a recognised backend error into the OCI error it returns, headers included', async () => {
    const f = await registryWith((e) =>
      e instanceof Throttled ? new RegistryError('TOOMANYREQUESTS', { reason: 'backend throttled' }, { status: 503, headers: { 'retry-after': '2' } }) : undefined,
    );
    expect((await putManifest(f, 'r/x', 'v1', artifact('a'))).status).toBe(201);
    const res = await get(f.registry, 'GET', '/v2/r/x/manifests/v1');
    expect(res.status).toBe(503);
    expect(res.errorCode).toBe('TOOMANYREQUESTS');
    expect(res.headers['retry-after']).toBe('2');
    expect(JSON.parse(String(res.body))).toMatchObject({ errors: [{ code: 'TOOMANYREQUESTS' }] });
    expect(f.errors).toHaveLength(1);
    const head = await get(f.registry, 'HEAD', '/v2/r/x/manifests/v1');
    expect(head.status).toBe(503);
    expect(head.body).toBeUndefined();
  });

  it('leaves what the classifier does not recognise (or a throwing classifier) a 500 UNKNOWN', async () => {
    for (const classify of [() => undefined, () => { throw new Error('classifier bug'); }]) {
      const f = await registryWith(classify);
      const res = await get(f.registry, 'GET', '/v2/r/x/manifests/v1');
      expect(res.status).toBe(500);
      expect(res.errorCode).toBe('UNKNOWN');
    }
  });

  it('is not consulted for OCI errors', async () => {
    let calls = 0;
    const f = await registryWith(() => {
      calls++;
      return undefined;
    });
    const res = await get(f.registry, 'GET', '/v2/r/x/blobs/sha256:' + '0'.repeat(64));
    expect(res.status).toBe(404);
    expect(calls).toBe(0);
  });
});
