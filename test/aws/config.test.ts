// Settings of the AWS runtime and its signing-keys secret: what the CDK app sets is read as meant, and
// what is wrong stops the start with a message that names the setting.
import { describe, expect, it } from 'vitest';
import { readAwsConfig } from '../../functions/aws/config.ts';
import { parseSigningKeys } from '../../functions/aws/signing-keys.ts';
import { TokenSigner } from '../../functions/core/tokens.ts';

const base = { TABLE_NAME: 'registry', BUCKET_NAME: 'blobs', KEYS_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:1:secret:k' };

describe('readAwsConfig', () => {
  it('reads the deployment settings; never open and path-style off by default', () => {
    const c = readAwsConfig({ ...base, AWS_REGION: 'eu-west-1' });
    expect(c).toMatchObject({ region: 'eu-west-1', tableName: 'registry', bucketName: 'blobs', localOpen: false, s3ForcePathStyle: false });
    expect(c.keys).toEqual({ secretArn: base.KEYS_SECRET_ARN });
    expect(c.s3Endpoint).toBeUndefined();
  });

  it('takes local endpoints and a keys file for start:aws, open on loopback stand-ins alone', () => {
    const local = { TABLE_NAME: 't', BUCKET_NAME: 'b', REGISTRY_KEYS_FILE: '/tmp/k.json', AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9', AWS_ENDPOINT_URL_DYNAMODB: 'http://localhost:8', S3_FORCE_PATH_STYLE: 'true' };
    const c = readAwsConfig({ ...local, REGISTRY_LOCAL_OPEN: 'on' });
    expect(c).toMatchObject({ keys: { file: '/tmp/k.json' }, s3Endpoint: 'http://127.0.0.1:9', s3ForcePathStyle: true, localOpen: true });
    expect(readAwsConfig(local).localOpen).toBe(false);
  });

  it('token auth: the realm of REGISTRY_URL, or (no domain) none fixed and the service named by REGISTRY_AUTH_SERVICE', () => {
    const tokens = { ...base, TOKEN_KEYS_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:1:secret:t' };
    expect(readAwsConfig({ ...tokens, REGISTRY_URL: 'https://registry.example.com/' }).auth).toMatchObject({ url: 'https://registry.example.com', service: 'registry.example.com' });
    const dev = readAwsConfig({ ...tokens, REGISTRY_AUTH_SERVICE: 'oci-registry-dev' }).auth!;
    expect(dev).toMatchObject({ service: 'oci-registry-dev', tokenKeys: { secretArn: tokens.TOKEN_KEYS_SECRET_ARN } });
    expect(dev.url).toBeUndefined();
    expect(() => readAwsConfig(tokens)).toThrow(/REGISTRY_AUTH_SERVICE \(or REGISTRY_URL/);
  });

  it('the pull-through cache: bounded below API Gateway\'s 29 s by default; credentials in Secrets Manager or a local folder', () => {
    expect(readAwsConfig(base).proxy).toEqual({ leaseSeconds: 60, waitSeconds: 20, fetchSeconds: 25 });
    expect(readAwsConfig({ ...base, REGISTRY_UPSTREAM_SECRETS_PREFIX: 'oci-registry/prod/upstream/', REGISTRY_PROXY_WAIT_SECONDS: '5' }).proxy).toEqual({ leaseSeconds: 60, waitSeconds: 5, fetchSeconds: 25, secrets: { prefix: 'oci-registry/prod/upstream/' } });
    expect(readAwsConfig({ ...base, REGISTRY_UPSTREAM_SECRETS_DIR: '/tmp/u', REGISTRY_PROXY_MIRROR: 'hub' }).proxy).toMatchObject({ mirror: 'hub', secrets: { dir: '/tmp/u' } });
  });

  it.each([
    [{ ...base, REGISTRY_PROXY_FETCH_SECONDS: '901' }, /REGISTRY_PROXY_FETCH_SECONDS/],
    [{ ...base, REGISTRY_PROXY_MIRROR: 'Hub' }, /REGISTRY_PROXY_MIRROR must be a project name/],
    [{ BUCKET_NAME: 'b', KEYS_SECRET_ARN: 'a' }, /TABLE_NAME is not set/],
    [{ TABLE_NAME: 't', KEYS_SECRET_ARN: 'a' }, /BUCKET_NAME is not set/],
    [{ TABLE_NAME: 't', BUCKET_NAME: 'b' }, /KEYS_SECRET_ARN/],
    // Open only against loopback stand-ins: never a deployment's AWS endpoints, never beside token auth.
    [{ ...base, REGISTRY_LOCAL_OPEN: 'on' }, /REGISTRY_LOCAL_OPEN=on is for npm run start:aws alone/],
    [{ ...base, REGISTRY_LOCAL_OPEN: 'on', AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9', AWS_ENDPOINT_URL_DYNAMODB: 'https://dynamodb.us-east-1.amazonaws.com' }, /REGISTRY_LOCAL_OPEN=on is for npm run start:aws alone/],
    [{ ...base, REGISTRY_LOCAL_OPEN: 'on', AWS_ENDPOINT_URL: 'http://127.0.0.1:9', TOKEN_KEYS_SECRET_ARN: 't', REGISTRY_URL: 'https://r.example.com' }, /REGISTRY_LOCAL_OPEN=on is for npm run start:aws alone/],
    [{ ...base, REGISTRY_LOCAL_OPEN: 'yes' }, /REGISTRY_LOCAL_OPEN must be on or off/],
    [{ ...base, S3_FORCE_PATH_STYLE: 'yes' }, /S3_FORCE_PATH_STYLE must be true or false/],
    [{ ...base, REGISTRY_UPLOAD_TTL_SECONDS: '0' }, /REGISTRY_UPLOAD_TTL_SECONDS must be an integer/],
  ])('refuses %o', (env, message) => {
    expect(() => readAwsConfig(env)).toThrow(message);
  });
});

describe('parseSigningKeys', () => {
  const k1 = { kid: 'k1', key: 'x'.repeat(64) };
  const k0 = { kid: 'k0', key: 'y'.repeat(64) };

  it('reads the secret the CDK app generates, newest key first, older keys after it', () => {
    expect(parseSigningKeys(JSON.stringify(k1))).toEqual({ upload: [{ id: 'k1', secret: k1.key }] });
    const rotated = parseSigningKeys(JSON.stringify({ ...k1, previous: [k0] }));
    expect(rotated.upload.map((k) => k.id)).toEqual(['k1', 'k0']);
    // A token signed with the previous key still verifies after the rotation; new ones use the new key.
    const before = new TokenSigner([{ id: 'k0', secret: k0.key }]).sign('r|id', 2_000_000_000);
    const after = new TokenSigner(rotated.upload);
    expect(after.verify(before, 1)).toBe('r|id');
    expect(after.sign('r|id', 2_000_000_000).startsWith('k1.')).toBe(true);
  });

  it.each([
    ['not json', /not JSON/],
    [JSON.stringify({ kid: 'k1' }), /needs string "kid" and "key"/],
    [JSON.stringify({ kid: 'k1', key: 'short' }), /at least 32 bytes/],
    [JSON.stringify({ ...k1, previous: {} }), /"previous" must be an array/],
    [JSON.stringify({ ...k1, previous: [{ kid: 'k0' }] }), /previous\[0\]/],
  ])('refuses %s', (json, message) => {
    expect(() => parseSigningKeys(json)).toThrow(message);
  });
});
