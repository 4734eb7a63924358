// docs/api.md lists every endpoint of the management API with the access it declares, and nothing
// that is not one.
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { MANAGEMENT_ENDPOINTS } from '../../../functions/core/management/api.ts';

const doc = readFileSync(new URL('../../../docs/api.md', import.meta.url), 'utf8');
const rows = [...doc.matchAll(/^\| (GET|POST|PUT|PATCH|DELETE) \| `([^`]+)` \| ([a-z-]+) \|/gm)].map((m) => `${m[1]} ${m[2]} ${m[3]}`);

it('docs/api.md has one row per endpoint: method, path, access', () => {
  expect(rows.sort()).toEqual(MANAGEMENT_ENDPOINTS.map((e) => `${e.method} /api/v1${e.path} ${e.access}`).sort());
});
