// The hot read, lean: one DynamoDB GetItem signed and sent without the SDK's per-command middleware
// stack, which costs several hundred microseconds of CPU per call (serde schemas, endpoint rules,
// user agent, the signer's per-call credential hash; bench/handler-cpu.ts) where a manifest GET by
// tag is nothing else. It keeps what the SDK gives, taken from the DynamoDB client it is built on:
// its credentials provider (the SDK chain, memoized and refreshed before expiry, session token
// included), region, endpoint (resolved once by the client's own endpoint rules), clock offset, and
// retry strategy (the same object, so the same attempts, backoff and retry quota as the SDK's calls),
// errors classified as the SDK's retry middleware does. SigV4 by @smithy/signature-v4, keep-alive
// agents. Errors are DynamoDBServiceException with name, $fault and $metadata as the SDK throws them.
// It is a CountableClient: middleware added at `initialize` (once per call) and `finalizeRequest`
// (once per attempt) runs as in an SDK client, so call counting, recording and error naming see it.
import { createHash, createHmac, createSecretKey, type Hash, type Hmac, type KeyObject } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { DynamoDBServiceException, type DynamoDBClient, type GetItemCommandInput, type GetItemCommandOutput } from '@aws-sdk/client-dynamodb';
import { isServerError, isThrottlingError, isTransientError } from '@smithy/core/retry';
import { SignatureV4 } from '@smithy/signature-v4';

type Source = string | ArrayBuffer | ArrayBufferView;
const bytes = (data: Source): string | Uint8Array =>
  typeof data === 'string' ? data : data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);

/**
 * HMAC keys as KeyObjects, by their bytes. node:crypto imports a raw key on every createHmac
 * (about 10 us); a KeyObject is imported once (createHmac then costs about 2 us). The signer HMACs
 * with two keys per request, both stable: the credentials' secret (the key of its signing-key cache)
 * and the day's signing key. Bounded, oldest first out: keys change daily or on credential refresh.
 */
const HMAC_KEYS = new Map<string, KeyObject>();
const HMAC_KEYS_MAX = 8;

function hmacKey(secret: string | Uint8Array): KeyObject {
  const id = typeof secret === 'string' ? `s${secret}` : `b${Buffer.from(secret.buffer, secret.byteOffset, secret.byteLength).toString('latin1')}`;
  let key = HMAC_KEYS.get(id);
  if (key === undefined) {
    key = createSecretKey(typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret);
    if (HMAC_KEYS.size >= HMAC_KEYS_MAX) HMAC_KEYS.delete(HMAC_KEYS.keys().next().value!);
    HMAC_KEYS.set(id, key);
  }
  return key;
}

/** The SHA-256 the signer takes (a Checksum), on node:crypto (exported for its signing test). */
export class Sha256 {
  private readonly secret: KeyObject | undefined;
  private hash: Hash | Hmac;
  constructor(secret?: Source) {
    this.secret = secret === undefined ? undefined : hmacKey(bytes(secret));
    this.hash = this.fresh();
  }
  private fresh(): Hash | Hmac {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', this.secret);
  }
  update(data: Source): void {
    this.hash.update(bytes(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(this.hash.digest());
  }
  reset(): void {
    this.hash = this.fresh();
  }
}

type Args = { input: GetItemCommandInput };
type Result = { output: GetItemCommandOutput; response: { statusCode: number } };
type Handler = (args: Args) => Promise<Result>;
type Middleware = (next: Handler, context: { commandName: string }) => Handler;
type Step = 'initialize' | 'finalizeRequest';
interface Entry {
  name: string;
  step: Step;
  high: boolean;
  middleware: Middleware;
}

interface Endpoint {
  https: boolean;
  hostname: string;
  port: number | undefined;
  path: string;
  host: string;
}

interface Setup {
  endpoint: Endpoint;
  signer: SignatureV4;
  retry: RetryStrategy;
}

interface RetryToken {
  getRetryCount(): number;
}
interface RetryStrategy {
  acquireInitialRetryToken(scope: string): Promise<RetryToken>;
  refreshRetryTokenForRetry(token: RetryToken, info: { errorType: string; retryAfterHint?: Date }): Promise<RetryToken>;
  recordSuccess(token: RetryToken): void;
}

/** The parts of the DynamoDB client's resolved configuration this reads. */
interface ClientConfig {
  region: () => Promise<string>;
  credentials: ConstructorParameters<typeof SignatureV4>[0]['credentials'];
  endpoint?: () => Promise<{ protocol: string; hostname: string; port?: number; path: string }>;
  endpointProvider: (params: Record<string, unknown>) => { url: URL };
  useFipsEndpoint: () => Promise<boolean>;
  useDualstackEndpoint: () => Promise<boolean>;
  retryStrategy: () => Promise<RetryStrategy>;
  systemClockOffset?: number;
}

const COMMAND = { commandName: 'GetItemCommand' };
/** Errors that mean the local clock is off (the SDK corrects its offset from the answer's Date). */
const CLOCK_SKEW = new Set(['InvalidSignatureException', 'RequestExpired', 'RequestInTheFuture', 'RequestTimeTooSkewed', 'SignatureDoesNotMatch']);
const SKEW_MS = 300_000;

/** As the SDK's retry middleware classifies an error for its retry strategy. */
function retryErrorType(e: Parameters<typeof isThrottlingError>[0]): string {
  if (isThrottlingError(e)) return 'THROTTLING';
  if (isTransientError(e)) return 'TRANSIENT';
  if (isServerError(e)) return 'SERVER_ERROR';
  return 'CLIENT_ERROR';
}

type Wire = Record<string, unknown>;

/** Binary values arrive base64 in JSON; the SDK hands them out as bytes (B, BS, inside M and L). */
function decodeBinary(value: Wire): void {
  if (typeof value.B === 'string') value.B = fromBase64(value.B);
  else if (Array.isArray(value.BS)) value.BS = (value.BS as string[]).map(fromBase64);
  else if (Array.isArray(value.L)) for (const v of value.L as Wire[]) decodeBinary(v);
  else if (value.M && typeof value.M === 'object') decodeItem(value.M as Record<string, Wire>);
}

function decodeItem(item: Record<string, Wire>): void {
  for (const k in item) decodeBinary(item[k]!);
}

function fromBase64(text: string): Uint8Array {
  const b = Buffer.from(text, 'base64');
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

function readAll(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (d: Buffer) => chunks.push(d));
    res.on('end', () => resolve(chunks.length === 1 ? chunks[0]!.toString() : Buffer.concat(chunks).toString()));
    res.on('error', reject);
  });
}

export class GetItemClient {
  private readonly config: ClientConfig;
  private readonly entries: Entry[] = [];
  private readonly httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 50 });
  private readonly httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: 50 });
  private setup: Promise<Setup> | undefined;

  /** Everything but the wire comes from `client`'s configuration. */
  constructor(client: DynamoDBClient) {
    this.config = client.config as unknown as ClientConfig;
  }

  readonly middlewareStack = {
    add: (middleware: Middleware, options: { step?: string; name?: string; priority?: string }): void => {
      if (options.step !== 'initialize' && options.step !== 'finalizeRequest') throw new Error(`GetItemClient runs middleware at initialize and finalizeRequest only, not ${String(options.step)}`);
      this.entries.push({ name: options.name ?? '', step: options.step, high: options.priority === 'high', middleware });
    },
    remove: (name: string): boolean => {
      const i = this.entries.findIndex((e) => e.name === name);
      if (i >= 0) this.entries.splice(i, 1);
      return i >= 0;
    },
  };

  /** One GetItem, as `client.send(new GetItemCommand(input))` would answer it. */
  async getItem(input: GetItemCommandInput): Promise<GetItemCommandOutput> {
    return (await this.wrap('initialize', (args) => this.withRetries(args))({ input })).output;
  }

  /** `inner` inside the middleware of `step`, high priority outermost. */
  private wrap(step: Step, inner: Handler): Handler {
    let handler = inner;
    const at = this.entries.filter((e) => e.step === step);
    // Low priority innermost: added first among the lows wraps last (outside later ones), as the SDK orders a step.
    for (const e of [...at.filter((x) => !x.high)].reverse()) handler = e.middleware(handler, COMMAND);
    for (const e of [...at.filter((x) => x.high)].reverse()) handler = e.middleware(handler, COMMAND);
    return handler;
  }

  private prepare(): Promise<Setup> {
    this.setup ??= (async () => {
      const c = this.config;
      const region = await c.region();
      const custom = c.endpoint ? await c.endpoint() : undefined;
      const url = custom
        ? new URL(`${custom.protocol}//${custom.hostname}${custom.port === undefined ? '' : `:${custom.port}`}${custom.path}`)
        : c.endpointProvider({ Region: region, UseFIPS: await c.useFipsEndpoint(), UseDualStack: await c.useDualstackEndpoint(), AccountIdEndpointMode: 'disabled' }).url;
      const endpoint: Endpoint = { https: url.protocol === 'https:', hostname: url.hostname, port: url.port === '' ? undefined : Number(url.port), path: url.pathname || '/', host: url.host };
      const signer = new SignatureV4({ credentials: c.credentials, region, service: 'dynamodb', sha256: Sha256, applyChecksum: false });
      return { endpoint, signer, retry: await c.retryStrategy() };
    })();
    this.setup.catch(() => (this.setup = undefined));
    return this.setup;
  }

  /** Attempts under the client's retry strategy, as the SDK's retry middleware runs them. */
  private async withRetries(args: Args): Promise<Result> {
    const setup = await this.prepare();
    const attempt = this.wrap('finalizeRequest', () => this.attempt(setup, args.input));
    let token = await setup.retry.acquireInitialRetryToken('dynamodb');
    let attempts = 0;
    for (;;) {
      try {
        const out = await attempt(args);
        setup.retry.recordSuccess(token);
        out.output.$metadata.attempts = attempts + 1;
        return out;
      } catch (e) {
        const error = e instanceof Error ? e : new Error(String(e));
        attempts++;
        try {
          token = await setup.retry.refreshRetryTokenForRetry(token, { errorType: retryErrorType(error as Parameters<typeof isThrottlingError>[0]) });
        } catch {
          const meta = ((error as { $metadata?: Record<string, unknown> }).$metadata ??= {});
          meta.attempts = attempts;
          throw error;
        }
      }
    }
  }

  private async attempt(setup: Setup, input: GetItemCommandInput): Promise<Result> {
    const { endpoint } = setup;
    const body = JSON.stringify(input);
    const signed = await setup.signer.sign(
      {
        method: 'POST', protocol: endpoint.https ? 'https:' : 'http:', hostname: endpoint.hostname, port: endpoint.port, path: endpoint.path, query: {},
        headers: { host: endpoint.host, 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'DynamoDB_20120810.GetItem', 'content-length': String(Buffer.byteLength(body)) },
        body,
      },
      { signingDate: new Date(Date.now() + (this.config.systemClockOffset ?? 0)) },
    );
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const options = { method: 'POST', hostname: endpoint.hostname, port: endpoint.port, path: endpoint.path, headers: signed.headers };
      const req = endpoint.https ? httpsRequest({ ...options, agent: this.httpsAgent }, resolve) : httpRequest({ ...options, agent: this.httpAgent }, resolve);
      req.on('error', reject);
      req.end(body);
    });
    const text = await readAll(res);
    const status = res.statusCode ?? 0;
    const requestId = typeof res.headers['x-amzn-requestid'] === 'string' ? res.headers['x-amzn-requestid'] : undefined;
    if (status === 200) {
      const parsed = JSON.parse(text) as Omit<GetItemCommandOutput, '$metadata'>;
      if (parsed.Item) decodeItem(parsed.Item as unknown as Record<string, Wire>);
      return { output: { ...parsed, $metadata: { httpStatusCode: status, requestId } }, response: { statusCode: status } };
    }
    throw this.serviceError(status, text, requestId, res.headers.date);
  }

  /** The SDK's exception for a DynamoDB error answer (JSON 1.0: `__type` and `message`). */
  private serviceError(status: number, text: string, requestId: string | undefined, date: string | undefined): DynamoDBServiceException {
    let parsed: { __type?: unknown; message?: unknown; Message?: unknown } = {};
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch {
      // Not JSON (a proxy's page): the status alone classifies it.
    }
    const type = typeof parsed.__type === 'string' ? parsed.__type : '';
    const name = type.slice(type.lastIndexOf('#') + 1) || (status >= 500 ? 'InternalServerError' : 'UnknownError');
    const message = typeof parsed.message === 'string' ? parsed.message : typeof parsed.Message === 'string' ? parsed.Message : `HTTP ${status}`;
    const $metadata: DynamoDBServiceException['$metadata'] & { clockSkewCorrected?: boolean } = { httpStatusCode: status, requestId };
    if (CLOCK_SKEW.has(name) && date !== undefined) {
      const skew = Date.parse(date) - Date.now();
      if (Number.isFinite(skew) && Math.abs(skew - (this.config.systemClockOffset ?? 0)) > SKEW_MS) {
        this.config.systemClockOffset = skew;
        $metadata.clockSkewCorrected = true;
      }
    }
    return new DynamoDBServiceException({ name, message, $fault: status >= 500 ? 'server' : 'client', $metadata });
  }
}

const byClient = new WeakMap<DynamoDBClient, GetItemClient>();

/** The one GetItemClient of `client` (made on first use), so every user of the client shares its middleware. */
export function getItemClientOf(client: DynamoDBClient): GetItemClient {
  let reads = byClient.get(client);
  if (!reads) {
    reads = new GetItemClient(client);
    byClient.set(client, reads);
  }
  return reads;
}
