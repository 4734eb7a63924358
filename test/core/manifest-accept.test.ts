// acceptable() (functions/core/manifest.ts): Accept negotiation for manifest GET/HEAD, with RFC 9110
// semantics (lists, wildcards, case, parameters, q=0 and its precedence over wildcards).
import { describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { acceptable } from '../../functions/core/manifest.ts';
import { OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST } from './manifest-fixtures.ts';

describe('acceptable(): Accept negotiation for manifest GET/HEAD', () => {
  it('no Accept header or an empty one accepts anything', () => {
    assert.equal(acceptable(undefined, OCI_MANIFEST), true);
    assert.equal(acceptable('', DOCKER_LIST), true);
  });

  it('an exact match is acceptable, a different type is not', () => {
    assert.equal(acceptable(OCI_MANIFEST, OCI_MANIFEST), true);
    assert.equal(acceptable(DOCKER_MANIFEST, OCI_MANIFEST), false);
    assert.equal(acceptable(OCI_MANIFEST, OCI_INDEX), false);
    assert.equal(acceptable('application/json', OCI_MANIFEST), false);
  });

  it('lists, with or without spaces, and repeated headers joined with ", "', () => {
    const list = `${DOCKER_MANIFEST}, ${DOCKER_LIST},${OCI_MANIFEST} ,  ${OCI_INDEX}`;
    for (const t of [DOCKER_MANIFEST, DOCKER_LIST, OCI_MANIFEST, OCI_INDEX]) assert.equal(acceptable(list, t), true, t);
    assert.equal(acceptable(`${DOCKER_MANIFEST}, ${DOCKER_LIST}`, OCI_INDEX), false);
    // What containerd sends when resolving.
    const containerd = `${DOCKER_MANIFEST}, ${DOCKER_LIST}, ${OCI_MANIFEST}, ${OCI_INDEX}, */*`;
    assert.equal(acceptable(containerd, OCI_INDEX), true);
  });

  it('wildcards */* and application/* match; other type wildcards do not', () => {
    assert.equal(acceptable('*/*', OCI_MANIFEST), true);
    assert.equal(acceptable('application/*', DOCKER_LIST), true);
    assert.equal(acceptable(`${DOCKER_MANIFEST}, */*`, OCI_MANIFEST), true);
    assert.equal(acceptable('text/*', OCI_MANIFEST), false);
    assert.equal(acceptable('image/*, text/plain', OCI_MANIFEST), false);
  });

  it('media type matching is case-insensitive and ignores parameters other than q', () => {
    assert.equal(acceptable(OCI_MANIFEST.toUpperCase(), OCI_MANIFEST), true);
    assert.equal(acceptable(`${OCI_MANIFEST}; charset=utf-8`, OCI_MANIFEST), true);
    assert.equal(acceptable(`${OCI_MANIFEST};q=0.5`, OCI_MANIFEST), true);
    assert.equal(acceptable(`${OCI_MANIFEST}; q=1`, OCI_MANIFEST), true);
    assert.equal(acceptable(`${OCI_MANIFEST};q=0.001`, OCI_MANIFEST), true, 'q=0.001 is still acceptable');
  });

  it('q=0 makes an entry not acceptable', () => {
    assert.equal(acceptable(`${OCI_MANIFEST};q=0, ${DOCKER_MANIFEST}`, OCI_MANIFEST), false);
    assert.equal(acceptable(`${OCI_MANIFEST}; q=0.0, ${DOCKER_MANIFEST}`, OCI_MANIFEST), false);
    assert.equal(acceptable(`${OCI_MANIFEST};q=0.000, ${DOCKER_MANIFEST}`, OCI_MANIFEST), false);
    assert.equal(acceptable(`${OCI_MANIFEST};q=0, ${DOCKER_MANIFEST}`, DOCKER_MANIFEST), true);
    assert.equal(acceptable('*/*;q=0, text/plain', OCI_MANIFEST), false);
  });

  it('the q parameter name is case-insensitive (RFC 9110 §5.6.6)', () => {
    assert.equal(acceptable(`${OCI_MANIFEST};Q=0, ${DOCKER_MANIFEST}`, OCI_MANIFEST), false);
  });

  it('an Accept header whose only entries have q=0 accepts none of them', () => {
    // RFC 9110 §12.5.1: q=0 means "not acceptable"; the header still lists media types, so the
    // registry must not fall back to "anything goes".
    assert.equal(acceptable(`${OCI_MANIFEST};q=0`, OCI_MANIFEST), false);
    assert.equal(acceptable(`${DOCKER_MANIFEST};q=0`, OCI_MANIFEST), false);
  });

  it('a more specific q=0 overrides a matching wildcard (RFC 9110 §12.5.1 precedence)', () => {
    assert.equal(acceptable(`application/*, ${OCI_MANIFEST};q=0`, OCI_MANIFEST), false);
    assert.equal(acceptable(`*/*, ${OCI_INDEX};q=0`, OCI_INDEX), false);
    assert.equal(acceptable(`*/*, ${OCI_INDEX};q=0`, OCI_MANIFEST), true);
  });
});
