// Blob read URLs through CloudFront: canned-policy signed URLs that CloudFront's key group would
// accept (checked here with the public key, as CloudFront does), short-lived, content-addressed paths.
import { describe, expect, it } from 'vitest';
import { createVerify, generateKeyPairSync } from 'node:crypto';
import { CloudFrontUrls } from '../../../functions/adapters/s3/cloudfront-urls.ts';
import { readAwsConfig } from '../../../functions/aws/config.ts';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();

/** CloudFront's URL-safe base64: + -> -, = -> _, / -> ~. */
const fromCf = (s: string): Buffer => Buffer.from(s.replace(/-/g, '+').replace(/_/g, '=').replace(/~/g, '/'), 'base64');

describe('CloudFront signed blob URLs', () => {
  const now = Date.UTC(2026, 10, 30, 12, 0, 0);
  const urls = new CloudFrontUrls({ baseUrl: 'https://registry.example.com', keyPairId: 'K2ABCDEF', privateKey: pem, now: () => now });

  it('signs the object key as the path with a canned policy that expires when asked', async () => {
    const key = 'blobs/r/team/app/sha256/' + 'a'.repeat(64);
    const signed = new URL(await urls.sign(key, 600));
    expect(signed.origin).toBe('https://registry.example.com');
    expect(signed.pathname).toBe(`/${key}`);
    expect(signed.searchParams.get('Key-Pair-Id')).toBe('K2ABCDEF');
    const expires = Number(signed.searchParams.get('Expires'));
    expect(expires).toBe(now / 1000 + 600);
    // The canned policy CloudFront rebuilds from the URL and Expires, verified with the public key.
    const policy = JSON.stringify({ Statement: [{ Resource: `https://registry.example.com/${key}`, Condition: { DateLessThan: { 'AWS:EpochTime': expires } } }] });
    const verify = createVerify('RSA-SHA1').update(policy);
    expect(verify.verify(publicKey, fromCf(signed.searchParams.get('Signature') ?? ''))).toBe(true);
    const other = createVerify('RSA-SHA1').update(policy.replace(key, 'blobs/sha256/' + 'b'.repeat(64)));
    expect(other.verify(publicKey, fromCf(signed.searchParams.get('Signature') ?? ''))).toBe(false);
  });

  it('refuses a base URL that is not https', () => {
    expect(() => new CloudFrontUrls({ baseUrl: 'http://registry.example.com', keyPairId: 'K', privateKey: pem })).toThrow(/https/);
  });

  it('the runtime uses CloudFront only with all three CDN settings (no custom domain: no CDN_URL, S3 presigned GETs)', () => {
    const base = { TABLE_NAME: 't', BUCKET_NAME: 'b', KEYS_SECRET_ARN: 'arn:k' };
    expect(readAwsConfig({ ...base }).cdn).toBeUndefined();
    expect(readAwsConfig({ ...base, CDN_URL: 'https://r.example.com' }).cdn).toBeUndefined();
    expect(readAwsConfig({ ...base, CDN_URL: 'https://r.example.com', CDN_KEY_PAIR_ID: 'K', CDN_PRIVATE_KEY_SECRET_ARN: 'arn:p' }).cdn).toEqual({
      url: 'https://r.example.com',
      keyPairId: 'K',
      privateKeySecretArn: 'arn:p',
    });
    expect(readAwsConfig({ ...base, CDN_KEY_PAIR_ID: 'K', CDN_PRIVATE_KEY_SECRET_ARN: 'arn:p' }).cdn).toBeUndefined();
  });
});
