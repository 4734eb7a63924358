// The case registry: every variant is one kind of bad input. Registration order matters: case i < the
// number of variants runs variant i, later cases draw at random from this list.
import { addDigestCases } from './digests.ts';
import type { Ctx } from './fixtures.ts';
import { addFuzzCases } from './fuzz.ts';
import { addHeaderCases } from './headers.ts';
import { caseKit, type Add } from './kit.ts';
import { addManifestBodyCases } from './manifest-bodies.ts';
import { addManifestReferenceCases } from './manifest-references.ts';
import { addMethodAndRouteCases } from './methods-routes.ts';
import { addNameAndTagCases } from './names-tags.ts';
import { addQueryCases } from './query-params.ts';
import type { Variant } from './runner.ts';
import { addUploadFlowCases } from './upload-flows.ts';

export function buildVariants(c: Ctx): Variant[] {
  const v: Variant[] = [];
  const add: Add = (name, run) => {
    v.push({ name, run });
  };
  const k = caseKit(c, add);
  addNameAndTagCases(k);
  addDigestCases(k);
  addQueryCases(k);
  addHeaderCases(k);
  addMethodAndRouteCases(k);
  addUploadFlowCases(k);
  addManifestBodyCases(k);
  addManifestReferenceCases(k);
  addFuzzCases(k);

  const names = new Set<string>();
  for (const x of v) {
    if (names.has(x.name)) throw new Error(`duplicate variant name ${x.name}`);
    names.add(x.name);
  }
  return v;
}
