// The sandbox compiles a deployed CloudFront Function so that coverage maps onto its file
// (dev/cloudfront/coverable-source.ts): the same length and text as the file but for its settings
// line, which binds the deployed value; anything else is compiled as deployed.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { edgeFunctionFile, edgeFunctionSource } from '../../../functions/edge/source.ts';
import { blankLines, coverableSource } from '../../../dev/cloudfront/coverable-source.ts';

const file = readFileSync(edgeFunctionFile('viewer-request'), 'utf8');

describe('coverable source of a deployed CloudFront Function', () => {
  it('viewer-request with settings: every offset is the file\'s, the settings line binds the deployed value', () => {
    const config = { ingest: false, edgeUploads: true, s3Origin: 'blobs-eu-west-1', ingestOrigin: 'ingest-origin', apiOrigin: 'api-origin' };
    const deployed = edgeFunctionSource('viewer-request', config);
    expect(deployed).not.toBe(file);
    const c = coverableSource(file, deployed);
    expect(c).toBeDefined();
    expect(c!.code.length).toBe(file.length);
    expect(c!.params).toEqual({ __deployed_CONFIG: config });
    const differing = c!.code.split('\n').filter((line, i) => line !== file.split('\n')[i]);
    expect(differing).toEqual([expect.stringMatching(/^var CONFIG = __deployed_CONFIG; +$/)]);
  });

  it('the file as it is (no settings) is compiled as it is', () => {
    expect(coverableSource(file, file)).toEqual({ code: file, params: {} });
  });

  it('code that differs otherwise is not mapped onto the file', () => {
    expect(coverableSource(file, `${file}\n// more`)).toBeUndefined();
    expect(coverableSource(file, file.replace(/^var CONFIG = .*$/m, 'var CONFIG = { notJson: 1 };'))).toBeUndefined();
    expect(coverableSource(file, file.replace('async function handler', 'async function handlerX'))).toBeUndefined();
  });

  it('blanks whole lines, keeping their length', () => {
    expect(blankLines("import a from 'x';\ncode();", /^import .*;$/gm)).toBe(`${' '.repeat(18)}\ncode();`);
  });
});
