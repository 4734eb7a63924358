// The lean GetItem client's SHA-256 for the SigV4 signer (get-item-client.ts), which keeps HMAC keys
// as KeyObjects: signatures equal AWS's published SigV4 test vector and, over many keys (more than
// it keeps), those of a plain node:crypto checksum that imports each key afresh.
import { describe, expect, it } from 'vitest';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '../../../functions/adapters/dynamodb/get-item-client.ts';

type Source = string | ArrayBuffer | ArrayBufferView;
const toBytes = (d: Source): string | Uint8Array => (typeof d === 'string' ? d : d instanceof ArrayBuffer ? new Uint8Array(d) : new Uint8Array(d.buffer, d.byteOffset, d.byteLength));

/** The reference: every HMAC key imported on each use. */
class PlainSha256 {
  readonly #parts: (string | Uint8Array)[] = [];
  readonly secret: Source | undefined;
  constructor(secret?: Source) {
    this.secret = secret;
  }
  update(d: Source): void {
    this.#parts.push(toBytes(d));
  }
  digest(): Promise<Uint8Array> {
    const h = this.secret === undefined ? createHash('sha256') : createHmac('sha256', toBytes(this.secret));
    for (const p of this.#parts) h.update(p);
    return Promise.resolve(h.digest());
  }
  reset(): void {
    this.#parts.length = 0;
  }
}

// aws-sig-v4-test-suite "get-vanilla" (AWS General Reference, Signature Version 4 test suite).
const VANILLA = {
  credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' },
  date: new Date('2015-08-30T12:36:00Z'),
  signature: '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
};

const request = (host: string, body?: string) => ({
  method: body === undefined ? 'GET' : 'POST',
  protocol: 'https:',
  hostname: host,
  path: '/',
  query: {},
  headers: { host, ...(body === undefined ? {} : { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'DynamoDB_20120810.GetItem' }) },
  ...(body === undefined ? {} : { body }),
});

async function signature(sha256: typeof Sha256 | typeof PlainSha256, credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }, date: Date, body?: string, region = 'us-east-1', service = 'service'): Promise<string> {
  const signer = new SignatureV4({ credentials, region, service, sha256, applyChecksum: false });
  const signed = await signer.sign(request(body === undefined ? 'example.amazonaws.com' : `dynamodb.${region}.amazonaws.com`, body), { signingDate: date });
  return /Signature=([0-9a-f]{64})/.exec(String(signed.headers.authorization))![1]!;
}

describe('the lean client SigV4 checksum', () => {
  it("signs AWS's get-vanilla test request with its published signature", async () => {
    expect(await signature(Sha256, VANILLA.credentials, VANILLA.date)).toBe(VANILLA.signature);
    expect(await signature(PlainSha256, VANILLA.credentials, VANILLA.date)).toBe(VANILLA.signature);
  });

  it('signs as a checksum that imports every key afresh, over more credentials and days than it keeps keys for', async () => {
    const body = JSON.stringify({ TableName: 't', Key: { pk: { S: 'R#a' }, sk: { S: 'T#v1' } }, ConsistentRead: true });
    for (let i = 0; i < 12; i++) {
      const credentials = { accessKeyId: `AKID${i % 5}`, secretAccessKey: randomBytes(30).toString('base64'), sessionToken: `token-${i}` };
      for (let day = 0; day < 3; day++) {
        const date = new Date(Date.UTC(2026, 11, 1 + day, 10, i));
        expect(await signature(Sha256, credentials, date, body, 'eu-west-2', 'dynamodb')).toBe(await signature(PlainSha256, credentials, date, body, 'eu-west-2', 'dynamodb'));
      }
    }
  });
});
