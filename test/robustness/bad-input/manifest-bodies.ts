// Cases for manifest bodies that are not valid: broken JSON, wrong top-level values, deep nesting,
// fields replaced by values of the wrong type, required fields missing.
import { OCI_CONFIG } from '../oci.ts';
import { MF } from './config.ts';
import { E, X4 } from './contract.ts';
import { manifestObject } from './fixtures.ts';
import type { Kit } from './kit.ts';
import { DELETE, encode, INVALID, INVALID_OR_DIGEST, manifestPuts, RAW, setPath } from './manifest-tools.ts';

export function addManifestBodyCases(k: Kit): void {
  const { c, add } = k;
  const { putRejected, putLoose, validText } = manifestPuts(k);
  // --- Manifests ---------------------------------------------------------------------------------
  const badBodies: [string, () => Buffer | string][] = [
    ['not-json', () => 'not json'],
    ['open-brace', () => '{'],
    ['truncated', () => validText.slice(0, Math.floor(validText.length / 2))],
    ['truncated-by-one', () => validText.slice(0, -1)],
    ['trailing-comma', () => validText.replace(/}$/, ',}')],
    ['trailing-garbage', () => `${validText}x`],
    ['two-documents', () => `${validText}${validText}`],
    ['single-quotes', () => validText.replace(/"/g, "'")],
    ['comment', () => `/* c */${validText}`],
    ['NaN-token', () => validText.replace('"schemaVersion":2', '"schemaVersion":NaN')],
    ['raw-nul-outside-string', () => Buffer.concat([Buffer.from(validText.slice(0, 1)), Buffer.from([0]), Buffer.from(validText.slice(1))])],
    ['raw-nul-in-string', () => validText.replace(OCI_CONFIG, `${OCI_CONFIG}\x00`)],
    ['raw-newline-in-string', () => validText.replace(OCI_CONFIG, `${OCI_CONFIG}\n`)],
    ['all-nul', () => Buffer.alloc(1000)],
    ['binary', () => Buffer.from([0xff, 0xfe, 0x00, 0x7b, 0x80])],
    ['utf16', () => Buffer.from(`\ufeff${validText}`, 'utf16le')],
    ['empty', () => ''],
    ['whitespace-only', () => '   \n\t  '],
    ['null', () => 'null'],
    ['array', () => '[]'],
    ['string', () => '"s"'],
    ['number', () => '2'],
    ['true', () => 'true'],
    ['empty-object', () => '{}'],
    ['deep-array-10k', () => `${'['.repeat(10_000)}${']'.repeat(10_000)}`],
    ['deep-object-10k', () => `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`],
    ['deep-array-100k', () => `${'['.repeat(100_000)}${']'.repeat(100_000)}`],
    ['deep-unclosed-100k', () => '['.repeat(100_000)],
    ['schema1', () => JSON.stringify({ schemaVersion: 1, name: MF, tag: 'x', architecture: 'amd64', fsLayers: [], history: [] })],
  ];
  for (const [label, body] of badBodies) {
    add(`manifest/${label}`, async (_rng, h) => putRejected(h, body(), INVALID));
  }
  const deepValue = (depth: number): string => `${'{"a":'.repeat(depth)}"x"${'}'.repeat(depth)}`;
  add('manifest/deep-annotation-10k', async (_rng, h) => {
    await putLoose(h, encode({ ...manifestObject(c), annotations: { a: RAW } }, deepValue(10_000)), undefined, E([201, 400]));
  });
  add('manifest/deep-unknown-field-100k', async (_rng, h) => {
    await putLoose(h, encode({ ...manifestObject(c), extra: RAW }, deepValue(100_000)), undefined, E([201, 400]));
  });
  add('manifest/deep-subject-10k', async (_rng, h) => {
    await putRejected(h, encode({ ...manifestObject(c), subject: RAW }, deepValue(10_000)), X4);
  });
  add('manifest/deep-layers-10k', async (_rng, h) => {
    await putRejected(h, encode({ ...manifestObject(c), layers: RAW }, `${'['.repeat(10_000)}${']'.repeat(10_000)}`), X4);
  });
  // Field substitutions: [path, replacement, strict (must be rejected)]
  const replacementValues: [string, unknown, string?][] = [
    ['null', null],
    ['true', true],
    ['zero', 0],
    ['minus-one', -1],
    ['float', 1.5],
    ['overflow', RAW, '1e400'],
    ['beyond-safe-int', RAW, '9007199254740993'],
    ['string', 's'],
    ['empty-string', ''],
    ['array', []],
    ['object', {}],
    ['numeric-string', '123'],
    ['nul-string', '\u0000'],
    ['long-string', 'x'.repeat(1000)],
    ['lone-surrogate', RAW, '"\\ud800"'],
  ];
  const fieldPaths: [string, (string | number)[], (label: string) => 'strict' | 'loose'][] = [
    ['schemaVersion', ['schemaVersion'], () => 'strict'],
    ['mediaType', ['mediaType'], () => 'strict'],
    ['config', ['config'], () => 'strict'],
    ['config.mediaType', ['config', 'mediaType'], (l) => (['string', 'empty-string', 'numeric-string', 'nul-string', 'long-string', 'lone-surrogate'].includes(l) ? 'loose' : 'strict')],
    ['config.digest', ['config', 'digest'], () => 'strict'],
    ['config.size', ['config', 'size'], () => 'strict'],
    ['layers', ['layers'], (l) => (l === 'array' ? 'loose' : 'strict')],
    ['layers[0]', ['layers', 0], () => 'strict'],
    ['layers[0].mediaType', ['layers', 0, 'mediaType'], (l) => (['string', 'empty-string', 'numeric-string', 'nul-string', 'long-string', 'lone-surrogate'].includes(l) ? 'loose' : 'strict')],
    ['layers[0].digest', ['layers', 0, 'digest'], () => 'strict'],
    ['layers[0].size', ['layers', 0, 'size'], () => 'strict'],
    ['annotations', ['annotations'], () => 'loose'],
    ['layers[0].annotations', ['layers', 0, 'annotations'], () => 'loose'],
    ['layers[0].urls', ['layers', 0, 'urls'], () => 'loose'],
    ['subject', ['subject'], () => 'strict'],
    ['artifactType', ['artifactType'], (l) => (['string', 'numeric-string', 'long-string', 'nul-string', 'lone-surrogate', 'empty-string'].includes(l) ? 'loose' : 'strict')],
  ];
  for (const [pathLabel, path, strictness] of fieldPaths) {
    add(`manifest/field ${pathLabel}`, async (rng, h) => {
      const [label, value, raw] = rng.pick(replacementValues);
      const obj = manifestObject(c);
      setPath(obj, path, value);
      const body = encode(obj, raw);
      if (strictness(label) === 'strict') {
        const expect = pathLabel.endsWith('digest') ? INVALID_OR_DIGEST : pathLabel === 'subject' ? E(400, ['MANIFEST_INVALID', 'DIGEST_INVALID']) : E(400, 'MANIFEST_INVALID');
        await putRejected(h, body, expect);
      } else {
        await putLoose(h, body);
      }
    });
  }
  const requiredFields: [string, (string | number)[]][] = [
    ['schemaVersion', ['schemaVersion']],
    ['config', ['config']],
    ['layers', ['layers']],
    ['config.digest', ['config', 'digest']],
    ['config.size', ['config', 'size']],
    ['config.mediaType', ['config', 'mediaType']],
    ['layers[0].digest', ['layers', 0, 'digest']],
    ['layers[0].size', ['layers', 0, 'size']],
    ['layers[0].mediaType', ['layers', 0, 'mediaType']],
  ];
  for (const [label, path] of requiredFields) {
    add(`manifest/missing ${label}`, async (_rng, h) => {
      const obj = manifestObject(c);
      setPath(obj, path, DELETE);
      await putRejected(h, encode(obj), label.endsWith('digest') ? INVALID_OR_DIGEST : X4);
    });
  }
}
