// cdk.json's proxyMirror: the primary region's API maps dockerd's `registry-mirrors` paths into the
// named project (REGISTRY_PROXY_MIRROR); a replica's API (it has no proxy) and the ingest service
// (it serves uploads, no reads) are not given it. Unset, no process gets it (test/infra/compute.test.ts).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cdkJson, SYNTH_TIMEOUT_MS, synthesizeAll } from './synth.ts';
import type { Json, Synthesized } from './synth.ts';

let s: Synthesized;
beforeAll(() => {
  const prod = (cdkJson().context['registry:environments'] as Record<string, Json>).prod;
  // One environment only: prod's shape with one replica and a mirror project.
  s = synthesizeAll({ 'registry:environments': { mirror: { ...prod, replicaRegions: ['eu-west-1'], proxyMirror: 'dockerhub' } }, env: 'mirror' });
}, SYNTH_TIMEOUT_MS);
afterAll(() => s?.cleanup());

function variables(stack: string, type: string): Json[] {
  return Object.values(s.templateJson(stack).Resources).filter((r) => r.Type === type).map((r) => (r.Properties as Json));
}

it('the primary API gets REGISTRY_PROXY_MIRROR, the replica API and the ingest task do not', () => {
  const [primary] = variables('OciRegistry-mirror-Api', 'AWS::Lambda::Function');
  expect(primary.Environment.Variables.REGISTRY_PROXY_MIRROR).toBe('dockerhub');
  const [replica] = variables('OciRegistry-mirror-Api-eu-west-1', 'AWS::Lambda::Function');
  expect(replica.Environment.Variables).not.toHaveProperty('REGISTRY_PROXY_MIRROR');
  const [task] = variables('OciRegistry-mirror-Ingest', 'AWS::ECS::TaskDefinition');
  const names = task.ContainerDefinitions.flatMap((c: Json) => c.Environment.map((e: Json) => e.Name));
  expect(names).toContain('TABLE_NAME');
  expect(names).not.toContain('REGISTRY_PROXY_MIRROR');
});
