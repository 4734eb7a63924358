// `npm run start:aws`: the AWS shape of the registry on one machine. DynamoDB Local and s3rver stand
// in for DynamoDB and S3; the API Lambda handler runs in this process behind an API Gateway v2
// emulation; the ingest service runs as its own Node process; the real CloudFront Functions decide
// each upload's path (S3 directly, ingest, or the API); s3rver's object-created events drive the
// events handler. Everything is in memory or in a temp dir, and gone when it stops.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { S3Event } from 'aws-lambda';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { startDynamoLocal, type DynamoLocal } from './dynamodb-local.ts';
import { EventGate, freePort, waitForHealth } from './local-parts.ts';
import { LOCAL_S3_CREDENTIALS, startS3Local } from './s3-local.ts';
import { createTable as createRegistryTable } from '../../functions/adapters/dynamodb/table.ts';
import { readAwsConfig } from '../../functions/aws/config.ts';
import { createAwsDeps, createAwsRegistry, type AwsDeps } from '../../functions/aws/deps.ts';
import { createApiHandler, type ApiHandler } from '../../functions/apps/api-lambda/handler.ts';
import { countS3ObjectBytes, newComputeBytes, type ComputeBytes } from '../../functions/aws/compute-bytes.ts';
import { awsRegistryHooks } from '../../functions/aws/registry-hooks.ts';
import { createEventsHandler } from '../../functions/apps/events-lambda/handler.ts';
import { loadEdgeFunction, uploadKeysStore } from '../cloudfront/harness.ts';
import type { EdgeConfig, ReadRoutingConfig } from '../../functions/edge/source.ts';
import { ORIGIN_SECRET_HEADER } from '../../functions/aws/origin-guard.ts';
import { CdnCache } from '../front-door/cdn-cache.ts';
import type { RegionalApis } from '../front-door/regions.ts';
import { deployedUiOrigin } from '../front-door/ui-origin.ts';
import { startFrontDoor, type FrontDoor, type FrontDoorOptions } from '../front-door/server.ts';
import { log } from '../../functions/http/log.ts';
import { reportProxyEvent } from '../../functions/http/proxy-report.ts';
import { FsUpstreamSecrets } from '../../functions/adapters/fs/fs-upstream-secrets.ts';
import type { UpstreamSecrets } from '../../functions/core/proxy/model.ts';
import { projectQuotas } from '../../functions/core/quota.ts';

const projectDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const TABLE = 'registry';
const BUCKET = 'registry';
const EDGE_ORIGINS = { s3Origin: 's3', ingestOrigin: 'ingest', apiOrigin: 'api' };
/** The web interface's bucket (a bucket of its own, as deployed) and its origin id. */
const UI_BUCKET = 'web-ui';
const UI_ORIGIN = 'ui';
const PRIMARY_REGION = 'us-east-1';

export interface AwsLocalOptions {
  host: string;
  port: number;
  /** Run the ingest service (REGISTRY_INGEST=on, the default) or not (off). */
  ingest: boolean;
  /** Extra environment for the ingest process (e.g. NODE_V8_COVERAGE from the tests). */
  ingestEnv?: Record<string, string>;
  /**
   * Run the CloudFront upload behaviour (the S3 fast path for monolithic PUTs; default true). False
   * routes uploads by the rule alone, to ingest or the API: the benches compare the two.
   */
  edge?: boolean;
  /** The deployment switch `edgeUploads` (default true): false sends monolithic PUTs to ingest or the API. */
  edgeUploads?: boolean;
  /** Called once per request with where the front door sent it (for the benches' byte counts). */
  onRoute?: FrontDoorOptions['onRoute'];
  /**
   * A second region (e.g. eu-west-1): its own API over the same table and bucket (DynamoDB Local
   * and s3rver stand in for the global table and the replicated buckets, with no lag), behind the
   * real read-routing CloudFront Function; the primary is us-east-1.
   */
  replicaRegion?: string;
  /**
   * Docker token authentication (REGISTRY_AUTH=on), as a deployment with a domain has it; users,
   * projects and robots live in the table (create them through `deps.identity`). Default: open.
   */
  auth?: boolean;
  /** With auth: where GitHub Actions' OIDC discovery document is (a local issuer in tests). */
  oidcGithubUrl?: string;
  /** A test fault of the S3 stand-in: the edge PUT refused as if OAC did not sign its x-amz headers. */
  faultEdgePutUnsigned?: boolean;
  /** REGISTRY_AUDIT_PULL_FLUSH_SECONDS (default 60): how often pull counts are written. */
  auditPullFlushSeconds?: number;
  /** REGISTRY_PROXY_MIRROR: the proxy project dockerd's `registry-mirrors` paths map into. */
  proxyMirror?: string;
  /** Extra environment of the API Lambda (e.g. REGISTRY_PROXY_FETCH_SECONDS from the tests). */
  apiEnv?: Record<string, string>;
  /** How long the events process keeps a project's storage quota (default QUOTA_SECONDS, 10). */
  eventsQuotaSeconds?: number;
}

/** The regions of a start:aws with a replica: take an API down (unreachable) or bring it back. */
export interface LocalRegions {
  primary: string;
  replica: string;
  /** The replica API's stores and clients (its own, as a Lambda in another region has). */
  replicaDeps: AwsDeps;
  setApiDown(region: string, down: boolean): void;
}

export interface AwsLocal {
  url: string;
  frontDoor: FrontDoor;
  /** The API Lambda's stores and clients. */
  deps: AwsDeps;
  /** The API Lambda's handler itself, as a direct call to the API Gateway URL reaches it (no CloudFront origin header). */
  apiHandler: ApiHandler;
  /** The API behaviour's CloudFront cache (hits, invalidations). */
  cdn: CdnCache;
  /** The events Lambda's. */
  eventsDeps: AwsDeps;
  /** Body bytes the API handler read from requests and moved to or from S3 (ingest serves its own on /healthz/calls). */
  apiBytes: ComputeBytes;
  /** The environment a deployed process of this registry gets (the ingest child runs with it; the bench's cold-start child too). */
  env: Readonly<Record<string, string>>;
  /** With `replicaRegion`: the two regions' APIs. */
  regions?: LocalRegions;
  /**
   * Where proxy projects' upstream credentials are (Secrets Manager's stand-in: files in the temp
   * dir, REGISTRY_UPSTREAM_SECRETS_DIR): pass it to createProxyProject with `deps.identity`.
   */
  upstreamSecrets: UpstreamSecrets;
  /** Whether monolithic PUTs go straight into S3 (the edge fast path). */
  edgeUploads: boolean;
  /** The ingest process (undefined when ingest is off). */
  ingest?: { url: string; pid: number; restart(): Promise<void>; kill(signal?: NodeJS.Signals): void };
  /** Events the events handler processed (recorded, duplicate or ignored), failed, and still has (retries and held ones included). */
  events: { delivered: number; failed: number; inFlight: number };
  /**
   * Holds object-created events back until the returned function is called: S3 sends its
   * notifications ~1 s after the object or later, so a client may send its next requests (the
   * manifest PUT) before the events arrive. Here they arrive at once unless held.
   */
  holdEvents(): () => void;
  close(): Promise<void>;
}


export async function startAwsLocal(opts: AwsLocalOptions): Promise<AwsLocal> {
  const work = await mkdtemp(join(tmpdir(), 'registry-aws-'));
  const cleanups: (() => Promise<unknown>)[] = [() => rm(work, { recursive: true, force: true })];
  const close = async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  };
  try {
    const [dynamo, s3] = await Promise.all([startDynamoLocal(), startS3Local(BUCKET)]);
    cleanups.push(() => dynamo.stop(), () => s3.stop());
    await createTable(dynamo);

    // One signing key, as the CDK app's secret holds it; the edge reads it from its KeyValueStore.
    const key = { kid: 'k1', key: randomBytes(32).toString('hex') };
    const keysFile = join(work, 'keys.json');
    await writeFile(keysFile, JSON.stringify(key), { mode: 0o600 });
    // With auth, the public URL (the token realm) must be known before the front door listens.
    const port = opts.auth && opts.port === 0 ? await freePort(opts.host) : opts.port;
    const publicUrl = `http://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}`;
    const tokenKeysFile = join(work, 'token-keys.json');
    if (opts.auth) await writeFile(tokenKeysFile, JSON.stringify({ kid: 't1', key: randomBytes(32).toString('hex') }), { mode: 0o600 });
    const env: Record<string, string> = {
      AWS_REGION: PRIMARY_REGION,
      AWS_ACCESS_KEY_ID: LOCAL_S3_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_S3_CREDENTIALS.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      S3_FORCE_PATH_STYLE: 'true',
      TABLE_NAME: TABLE,
      BUCKET_NAME: BUCKET,
      REGISTRY_KEYS_FILE: keysFile,
      // A registry on this machine for trying it out and for the tests: open (loopback stand-ins
      // only, functions/aws/config.ts), unless auth is asked for; a deployment is never open.
      ...(opts.auth ? { REGISTRY_TOKEN_KEYS_FILE: tokenKeysFile, REGISTRY_URL: publicUrl } : { REGISTRY_LOCAL_OPEN: 'on' }),
      ...(opts.auth && opts.oidcGithubUrl ? { REGISTRY_OIDC_GITHUB_URL: opts.oidcGithubUrl } : {}),
      POWERTOOLS_METRICS_NAMESPACE: 'OciRegistryLocal',
      // Secrets Manager's stand-in for proxy projects' upstream credentials: <work>/upstream-credentials/<project>.json.
      REGISTRY_UPSTREAM_SECRETS_DIR: work,
      ...(opts.proxyMirror ? { REGISTRY_PROXY_MIRROR: opts.proxyMirror } : {}),
      ...(opts.auditPullFlushSeconds ? { REGISTRY_AUDIT_PULL_FLUSH_SECONDS: String(opts.auditPullFlushSeconds) } : {}),
      ...(opts.replicaRegion ? { REGISTRY_PRIMARY_REGION: PRIMARY_REGION } : {}),
    };
    // Passed in, never put into process.env: this process may be a test worker or a bench.
    // The API's origin-verify secret: the front door adds it to every API request, as CloudFront does.
    const origin = { kid: 'o1', key: randomBytes(32).toString('hex') };
    const originSecretFile = join(work, 'origin-secret.json');
    await writeFile(originSecretFile, JSON.stringify(origin), { mode: 0o600 });
    const apiEnv = { ...env, ...opts.apiEnv, REGISTRY_ORIGIN_SECRET_FILE: originSecretFile };
    const deps = await createAwsDeps(readAwsConfig(apiEnv), { credentials: LOCAL_S3_CREDENTIALS, onProxyEvent: reportProxyEvent });
    cleanups.push(async () => {
      deps.dynamo.destroy();
      deps.s3.destroy();
    });

    const logger = new Logger({ serviceName: 'registry-api' });
    // Metrics go to stdout as EMF lines in AWS; here they are kept out of the request log.
    const metrics = new Metrics({ namespace: 'OciRegistryLocal', serviceName: 'registry-api', singleMetric: false });
    metrics.setDefaultDimensions({});
    // The API behaviour's CloudFront cache: what the origin marks public (anonymous pulls of public
    // projects); a delete purges the repository's paths from it, as the deployed API invalidates them.
    const cdn = new CdnCache();
    const sharedCache = { purge: async (_req: unknown, paths: readonly string[]) => cdn.purge(paths.map((p) => p.replace(/\*$/, ''))) };
    const registry = createAwsRegistry(deps, { ...awsRegistryHooks(logger), sharedCache });
    // The body bytes the API handler reads and moves through S3, counted inside it (the tests, the bench).
    const apiBytes = newComputeBytes();
    countS3ObjectBytes(deps.s3, apiBytes);
    const handler = createApiHandler(() => registry, { logger, metrics, computeBytes: apiBytes });
    // The web interface with token auth on (as `npm start` serves it): built, and copied into its
    // bucket as the deployment does (dev/front-door/ui-origin.ts).
    const ui = opts.auth ? await deployedUiOrigin(deps.s3, UI_BUCKET, UI_ORIGIN) : undefined;
    const uiId = ui ? UI_ORIGIN : '';
    let regions: RegionalApis;
    let localRegions: LocalRegions | undefined;
    if (opts.replicaRegion) {
      const replica = opts.replicaRegion;
      // The replica's API: a Lambda of its own in its own region, reading the same stores.
      const replicaDeps = await createAwsDeps(readAwsConfig({ ...apiEnv, AWS_REGION: replica }), { credentials: LOCAL_S3_CREDENTIALS, onProxyEvent: reportProxyEvent });
      cleanups.push(async () => {
        replicaDeps.dynamo.destroy();
        replicaDeps.s3.destroy();
      });
      const replicaRegistry = createAwsRegistry(replicaDeps, awsRegistryHooks(logger));
      const ids = { [PRIMARY_REGION]: EDGE_ORIGINS.apiOrigin, [replica]: `api-${replica}` };
      const routing: ReadRoutingConfig = {
        primary: PRIMARY_REGION,
        fallback: replica,
        regions: [[PRIMARY_REGION, 38.9, -77.4], [replica, 53.3, -6.3]],
        api: ids,
        blobs: { [PRIMARY_REGION]: 'blobs-primary', [replica]: 'blobs-replica' },
        ui: uiId,
      };
      regions = {
        routing: loadEdgeFunction('read-routing', { config: routing }),
        handlers: { [ids[PRIMARY_REGION]!]: handler as never, [ids[replica]!]: createApiHandler(() => replicaRegistry, { logger, metrics }) as never },
        primary: EDGE_ORIGINS.apiOrigin,
        down: new Set(),
        pageOrigins: [ids[replica]!, ids[PRIMARY_REGION]!],
      };
      const down = regions.down;
      localRegions = {
        primary: PRIMARY_REGION,
        replica,
        replicaDeps,
        setApiDown: (region, isDown) => {
          const id = ids[region];
          if (!id) throw new Error(`no region ${region} in this start:aws`);
          if (isDown) down.add(id);
          else down.delete(id);
        },
      };
    } else {
      // One region: the read-routing function still runs on the API behaviour (it drops anonymous
      // tokens there), and picks the one API.
      const routing: ReadRoutingConfig = { primary: PRIMARY_REGION, fallback: '', regions: [[PRIMARY_REGION, 38.9, -77.4]], api: { [PRIMARY_REGION]: EDGE_ORIGINS.apiOrigin }, blobs: { [PRIMARY_REGION]: 'blobs-primary' }, ui: uiId };
      regions = {
        routing: loadEdgeFunction('read-routing', { config: routing }),
        handlers: { [EDGE_ORIGINS.apiOrigin]: handler as never },
        primary: EDGE_ORIGINS.apiOrigin,
        down: new Set(),
        pageOrigins: [EDGE_ORIGINS.apiOrigin],
      };
    }
    regions.cache = cdn;

    let ingest: AwsLocal['ingest'];
    let ingestUrl: string | undefined;
    if (opts.ingest) {
      const port = await freePort('127.0.0.1');
      ingestUrl = `http://127.0.0.1:${port}`;
      let child: ChildProcess;
      const launch = async () => {
        child = spawn(process.execPath, [join(projectDir, 'functions', 'apps', 'ingest', 'index.ts')], {
          env: { ...process.env, ...env, ...opts.ingestEnv, HOST: '127.0.0.1', PORT: String(port), POWERTOOLS_SERVICE_NAME: 'registry-ingest' },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        // Forwarded through this process's streams (not inherited), so whoever runs start:aws in
        // its own process (the tests keep it per test) sees the ingest service's lines as its own.
        child.stdout!.on('data', (chunk: Buffer) => process.stdout.write(chunk));
        child.stderr!.on('data', (chunk: Buffer) => process.stderr.write(chunk));
        await waitForHealth(ingestUrl!, child, Date.now() + 30_000);
      };
      await launch();
      const stopChild = async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 12_000))]);
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      };
      cleanups.push(stopChild);
      ingest = {
        url: ingestUrl,
        get pid() {
          return child.pid ?? -1;
        },
        restart: async () => {
          await stopChild();
          await launch();
        },
        kill: (signal = 'SIGKILL') => void child.kill(signal),
      };
    }

    const events = { delivered: 0, failed: 0, inFlight: 0 };
    let held: S3Event[] | undefined;
    const holdEvents = (): (() => void) => {
      held ??= [];
      return () => {
        const release = held ?? [];
        held = undefined;
        events.inFlight -= release.length;
        for (const e of release) deliver(e);
      };
    };
    // The events Lambda is a process of its own in AWS: its own clients (and so its own call records).
    const eventsDeps = await createAwsDeps(readAwsConfig(env), { credentials: LOCAL_S3_CREDENTIALS });
    cleanups.push(async () => {
      eventsDeps.dynamo.destroy();
      eventsDeps.s3.destroy();
    });
    // One quota cache for the process, as the deployed function keeps its deps between invocations.
    const eventsQuotas = projectQuotas(eventsDeps.identity, Date.now, opts.eventsQuotaSeconds);
    const recordEvents = createEventsHandler(() => ({ metadata: eventsDeps.metadata, blobs: eventsDeps.blobs, now: Date.now, quotas: eventsQuotas }));
    const deliver = (event: S3Event, attempt = 1): void => {
      if (attempt === 1) events.inFlight += 1;
      recordEvents(event).then(
        () => {
          events.delivered += 1;
          events.inFlight -= 1;
        },
        (e: unknown) => {
          // Lambda retries an asynchronous invocation twice.
          if (attempt < 3) setTimeout(() => deliver(event, attempt + 1), 200 * attempt);
          else {
            events.failed += 1;
            events.inFlight -= 1;
            log('error', 'object-created event not recorded', { error: String(e) });
          }
        },
      );
    };
    const gate = new EventGate((e) => {
      if (!held) return deliver(e);
      events.inFlight += 1;
      held.push(e);
    });
    s3.onEvent((e) => gate.event(e));

    const config: EdgeConfig = { ingest: opts.ingest, edgeUploads: opts.edgeUploads !== false, ...EDGE_ORIGINS };
    const kvs = uploadKeysStore([{ id: key.kid, secret: key.key }]);
    const frontDoor = await startFrontDoor({
      host: opts.host,
      port,
      handler: handler as never,
      originHeaders: { [ORIGIN_SECRET_HEADER]: origin.key },
      ...(ingestUrl ? { ingestUrl } : {}),
      ...(opts.onRoute ? { onRoute: opts.onRoute } : {}),
      // GET /_local/stats: bytes and requests per origin, for the tests (never part of a deployment).
      localStats: true,
      regions,
      ...(ui ? { ui } : {}),
      ...(opts.edge === false ? {} : { edge: {
        viewerRequest: loadEdgeFunction('viewer-request', { config, kvs }),
        viewerResponse: loadEdgeFunction('viewer-response'),
        config,
        s3: { url: s3.endpoint, bucket: BUCKET },
        onS3Put: (k) => gate.expect(k),
        onS3Verdict: (k, ok) => gate.verdict(k, ok),
        ...(opts.faultEdgePutUnsigned ? { faultUnsignedHeaders: true } : {}),
      } }),
    });
    cleanups.push(() => frontDoor.close());
    return { url: frontDoor.url, frontDoor, deps, apiHandler: handler, cdn, eventsDeps, apiBytes, env, upstreamSecrets: new FsUpstreamSecrets(work), edgeUploads: opts.edge !== false && config.edgeUploads, ...(localRegions ? { regions: localRegions } : {}), ...(ingest ? { ingest } : {}), events, holdEvents, close };
  } catch (e) {
    await close();
    throw e;
  }
}

async function createTable(dynamo: DynamoLocal): Promise<void> {
  const client = dynamo.client();
  try {
    await createRegistryTable(client, TABLE);
  } finally {
    client.destroy();
  }
}
