// AWS Signature Version 4A (ECDSA P-256) for the CloudFront KeyValueStore API, whose only endpoint
// (https://<account>.cloudfront-kvs.global.api.aws) takes SigV4A with the region set "*". The SDK's
// client for it needs @aws-sdk/signature-v4a or the CRT, neither of which this project installs; the
// few requests the upload-keys publisher makes are signed here with node:crypto instead.
// Checked against the aws-c-auth SigV4A test suite (test/infra/upload-keys.test.ts).
import { createECDH, createHash, createHmac, createPrivateKey, sign, type KeyObject } from 'node:crypto';

export const ALGORITHM = 'AWS4-ECDSA-P256-SHA256';

export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export interface SignableRequest {
  readonly method: string;
  readonly host: string;
  /** The path as sent on the wire (each segment already percent-encoded). */
  readonly path: string;
  readonly query?: Readonly<Record<string, string>>;
  /** Extra headers to send and sign (lower-case names). */
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
}

export interface SigningContext {
  readonly credentials: Credentials;
  readonly service: string;
  readonly regionSet: string;
  readonly date: Date;
}

// n - 2 for P-256, big-endian.
const N_MINUS_2 = BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc63254f');

/** The ECDSA private scalar SigV4A derives from a key pair (NIST SP 800-108 counter-mode KDF, HMAC-SHA256). */
export function deriveSigningScalar(accessKeyId: string, secretAccessKey: string): Buffer {
  const inputKey = Buffer.from(`AWS4A${secretAccessKey}`, 'utf8');
  for (let counter = 1; counter < 255; counter++) {
    const fixedInput = Buffer.concat([
      Buffer.from([0, 0, 0, 1]),
      Buffer.from(ALGORITHM, 'utf8'),
      Buffer.from([0]),
      Buffer.from(accessKeyId, 'utf8'),
      Buffer.from([counter]),
      Buffer.from([0, 0, 1, 0]),
    ]);
    const candidate = createHmac('sha256', inputKey).update(fixedInput).digest();
    const c = BigInt(`0x${candidate.toString('hex')}`);
    if (c > N_MINUS_2) continue;
    return Buffer.from((c + 1n).toString(16).padStart(64, '0'), 'hex');
  }
  throw new Error('SigV4A: no signing key after 254 trials');
}

const keyCache = new Map<string, KeyObject>();

/** The P-256 private key of a credential pair (cached per access key and secret). */
export function signingKey(credentials: Credentials): KeyObject {
  const id = `${credentials.accessKeyId}:${createHash('sha256').update(credentials.secretAccessKey).digest('hex')}`;
  let key = keyCache.get(id);
  if (!key) {
    const d = deriveSigningScalar(credentials.accessKeyId, credentials.secretAccessKey);
    const ecdh = createECDH('prime256v1');
    ecdh.setPrivateKey(d);
    const pub = ecdh.getPublicKey();
    key = createPrivateKey({
      format: 'jwk',
      key: { kty: 'EC', crv: 'P-256', d: d.toString('base64url'), x: pub.subarray(1, 33).toString('base64url'), y: pub.subarray(33, 65).toString('base64url') },
    });
    keyCache.clear();
    keyCache.set(id, key);
  }
  return key;
}

/** RFC 3986 percent-encoding, as SigV4 wants it. */
export function uriEscape(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

const sha256Hex = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');

function amzDate(date: Date): { long: string; short: string } {
  const long = date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  return { long, short: long.slice(0, 8) };
}

export interface Signed {
  /** Every header to send, Host and Authorization included. */
  readonly headers: Record<string, string>;
  readonly canonicalRequest: string;
  readonly stringToSign: string;
}

/**
 * Signs `req` with SigV4A. Signed headers: host, x-amz-date, x-amz-region-set, the session token and
 * the request's own headers. Non-S3 services sign the path encoded once more (each segment).
 */
export function signV4a(req: SignableRequest, ctx: SigningContext): Signed {
  const { long, short } = amzDate(ctx.date);
  const headers: Record<string, string> = {
    ...Object.fromEntries(Object.entries(req.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
    host: req.host,
    'x-amz-date': long,
    'x-amz-region-set': ctx.regionSet,
    ...(ctx.credentials.sessionToken ? { 'x-amz-security-token': ctx.credentials.sessionToken } : {}),
  };
  const names = Object.keys(headers).sort();
  const canonicalHeaders = names.map((n) => `${n}:${headers[n]!.trim().replace(/\s+/g, ' ')}\n`).join('');
  const signedHeaders = names.join(';');
  const canonicalPath = req.path.split('/').map(uriEscape).join('/');
  const canonicalQuery = Object.entries(req.query ?? {})
    .map(([k, v]) => [uriEscape(k), uriEscape(v)] as const)
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const canonicalRequest = [req.method.toUpperCase(), canonicalPath, canonicalQuery, canonicalHeaders, signedHeaders, sha256Hex(req.body ?? '')].join('\n');
  const scope = `${short}/${ctx.service}/aws4_request`;
  const stringToSign = [ALGORITHM, long, scope, sha256Hex(canonicalRequest)].join('\n');
  const signature = sign('sha256', Buffer.from(stringToSign, 'utf8'), { key: signingKey(ctx.credentials), dsaEncoding: 'der' }).toString('hex');
  headers.authorization = `${ALGORITHM} Credential=${ctx.credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
  return { headers, canonicalRequest, stringToSign };
}
