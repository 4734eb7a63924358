// Edge: the one CloudFront distribution of an environment, on its custom domain. Lives in
// us-east-1, where CloudFront's certificates and metrics are.
//
// Behaviours (first match wins, most specific first):
//   /blobs/*                   S3 through OAC, signed URLs (trusted key group), cached; the
//                              read-routing function picks the bucket of the region nearest the
//                              viewer, failing over to the primary's (or, from the primary, to the
//                              nearest replica's)
//   /v2/*/blobs/uploads/*      the upload CloudFront Functions (functions/edge) and their
//                              KeyValueStore: the viewer-request function picks the origin of each
//                              request by id (S3 fast path, ingest, or the primary API)
//   /ui/*, /index.html         the web interface's files, from a bucket of their own through OAC
//                              (infra/constructs/web-ui.ts), GET/HEAD, cached as their
//                              Cache-Control says, with the interface's security headers
//   * (default)                the API, every method, nothing cached: the read-routing function
//                              sends writes to the primary region's API and reads (GET/HEAD) to the
//                              nearest region's, with failover to a second region; a read of `/`
//                              it sends to the web interface's bucket (index.html)
// Every region's API and bucket is an origin of the distribution. CloudFront refuses a static origin
// group on a behaviour that allows POST/PUT/PATCH/DELETE; a function-made group per read request is
// the way around it: see docs/deploy.md, "Regions".
import { Duration, RemovalPolicy, SecretValue, Stack, Validations } from 'aws-cdk-lib';
import type { StackProps } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as targets from 'aws-cdk-lib/aws-route53-targets';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { edgeFunctionSource, UI_ASSET_PATH, UI_PAGE_PATH, UNAVAILABLE_PAGE_PATH, UPLOAD_PATH } from '../../functions/edge/source.ts';
import { distributionComment } from '../../functions/adapters/cloudfront/cloudfront-cache.ts';
import type { EdgeConfig, ReadRoutingConfig } from '../../functions/edge/source.ts';
import type { EnvironmentConfig } from '../config.ts';
import { edgeCachePolicies } from '../constructs/edge-cache-policies.ts';
import { UploadKeysPublisher } from '../constructs/upload-keys-publisher.ts';
import { WebUi } from '../constructs/web-ui.ts';
import { nearestRegion, regionLocation } from '../region-locations.ts';
import { bucketName, bucketRegionalDomainName, KEY_PREFIXES, originSecretName, PREFIX, uploadKeysFunctionName } from '../names.ts';
import { ORIGIN_SECRET_HEADER } from '../../functions/aws/origin-guard.ts';

export interface ApiOrigin {
  readonly region: string;
  readonly domainName: string;
}

export interface IngestOrigin {
  readonly vpcOrigin: cloudfront.IVpcOrigin;
  readonly domainName: string;
}

export interface EdgeStackProps extends StackProps {
  readonly config: EnvironmentConfig;
  readonly primaryApi: ApiOrigin;
  readonly replicaApis: readonly ApiOrigin[];
  readonly keyGroupId: string;
  readonly ingest?: IngestOrigin;
  /** The signing keys secret (primary region) whose upload keys the KeyValueStore must hold. */
  readonly signingKeysSecretArn: string;
}

/**
 * Origin ids on the distribution, set explicitly so that the viewer-request function's CONFIG names
 * them (cf.selectRequestOriginById). Each id must be unique in the distribution: an origin that is
 * also a member of an origin group appears twice, under two ids.
 */
export const ORIGIN_IDS = {
  /** The primary API: every write, and the reads of viewers nearest the primary. */
  api: 'api',
  /** A replica region's API (reads only). */
  replicaApi: (region: string) => `api-${region}`,
  /** Members of the unavailable page's failover group (an origin in a group has an id of its own). */
  pageApi: (region: string) => `page-api-${region}`,
  ingest: 'ingest',
  /** The blob bucket of a region through OAC; the primary's is also the edge fast path's target. */
  bucket: (region: string) => `blobs-${region}`,
  /** The web interface's bucket (us-east-1, next to the distribution). */
  ui: 'ui',
} as const;

export const BLOB_PATH = `/${KEY_PREFIXES.blobs}*`;

/**
 * Origin timeouts (docs/deploy.md, "Origin timeouts", has the arithmetic). API: API Gateway ends
 * an integration at 30 s, so waiting longer is useless. S3: answers a PUT within seconds of its last
 * byte (the checksum is computed as the bytes arrive). Ingest: its answer to a PUT that completes a
 * multipart upload waits for CompleteMultipartUpload, which S3 may take minutes to finish for a large
 * object: CloudFront's maximum without a quota increase.
 */
export const ORIGIN_TIMEOUTS = {
  api: { read: 30, connect: 5, attempts: 2 },
  /** Read: CloudFront's default 30 s (the S3 origin's timeout is not a CDK setting). */
  s3: { connect: 5, attempts: 3 },
  ingest: { read: 120, keepalive: 60 },
} as const;

/** The behaviour of the unavailable page (functions/edge/source.ts UNAVAILABLE_PAGE_PATH). */
export const UNAVAILABLE_PAGE_BEHAVIOUR = '/v2/_registry/*';

/** CloudFront errors (origin unreachable, 502; origin timeout, 504) a client sees as this OCI 503. */
export const UNAVAILABLE_ERRORS = [502, 504];

export class EdgeStack extends Stack {
  readonly distribution: cloudfront.Distribution;
  readonly uploadKeys: cloudfront.KeyValueStore;
  readonly uploadKeysPublisher: UploadKeysPublisher;
  readonly viewerRequest: cloudfront.Function;
  readonly viewerResponse: cloudfront.Function;
  readonly readRouting: cloudfront.Function;
  /** The settings written into the deployed read-routing function. */
  readonly readRoutingConfig: ReadRoutingConfig;
  /** The settings written into the deployed viewer-request function. */
  readonly edgeConfig: EdgeConfig;
  /** The web interface's bucket, its deployments and its behaviours' policies. */
  readonly webUi: WebUi;

  constructor(scope: Construct, id: string, props: EdgeStackProps) {
    super(scope, id, props);
    const { config } = props;

    const certificate = this.certificate(config);

    // Every request to an API origin carries the origin secret (over any header of that name a viewer
    // sends): the APIs refuse requests without it, so the API Gateway URLs answer only CloudFront.
    // A dynamic reference: the value never enters the template (it resolves in us-east-1, where the
    // keys stack replicates the secret).
    const originHeaders = { [ORIGIN_SECRET_HEADER]: SecretValue.secretsManager(originSecretName(config), { jsonField: 'key' }).unsafeUnwrap() };
    const api = (o: ApiOrigin, originId: string) => new origins.HttpOrigin(o.domainName, {
      originId,
      customHeaders: originHeaders,
      protocolPolicy: cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
      originSslProtocols: [cloudfront.OriginSslPolicy.TLS_V1_2],
      readTimeout: Duration.seconds(ORIGIN_TIMEOUTS.api.read),
      connectionTimeout: Duration.seconds(ORIGIN_TIMEOUTS.api.connect),
      connectionAttempts: ORIGIN_TIMEOUTS.api.attempts,
    });
    const primaryApi = api(props.primaryApi, ORIGIN_IDS.api);
    const replicaApis = props.replicaApis.map((o) => api(o, ORIGIN_IDS.replicaApi(o.region)));

    const oac = new cloudfront.S3OriginAccessControl(this, 'BlobsOac', {
      description: `Registry ${config.name}: blob reads and edge uploads`,
      signing: cloudfront.Signing.SIGV4_ALWAYS,
    });
    const bucketOrigin = (region: string) => origins.S3BucketOrigin.withOriginAccessControl(
      s3.Bucket.fromBucketAttributes(this, `Bucket-${region}`, {
        bucketName: bucketName(config, region),
        region,
        bucketRegionalDomainName: bucketRegionalDomainName(config, region),
      }),
      {
        originAccessControl: oac,
        originId: ORIGIN_IDS.bucket(region),
        connectionTimeout: Duration.seconds(ORIGIN_TIMEOUTS.s3.connect),
        connectionAttempts: ORIGIN_TIMEOUTS.s3.attempts,
      },
    );
    // The primary bucket's origin is the blob behaviour's and the fast path's target.
    const primaryBucket = bucketOrigin(config.region);
    const replicaBuckets = config.replicaRegions.map(bucketOrigin);
    const regions = [config.region, ...config.replicaRegions];
    this.webUi = new WebUi(this, 'WebUi', { environment: config.name, retain: config.retain, originId: ORIGIN_IDS.ui });
    const readRouting: ReadRoutingConfig = {
      primary: config.region,
      fallback: nearestRegion(config.region, config.replicaRegions) ?? '',
      regions: regions.map(regionLocation),
      api: Object.fromEntries([[config.region, ORIGIN_IDS.api], ...props.replicaApis.map((o) => [o.region, ORIGIN_IDS.replicaApi(o.region)])]),
      blobs: Object.fromEntries(regions.map((r) => [r, ORIGIN_IDS.bucket(r)])),
      ui: ORIGIN_IDS.ui,
    };
    this.readRoutingConfig = readRouting;
    const fallbackApi = props.replicaApis.find((o) => o.region === readRouting.fallback);
    const pageOrigin = fallbackApi
      ? new origins.OriginGroup({
        primaryOrigin: api(fallbackApi, ORIGIN_IDS.pageApi(fallbackApi.region)),
        fallbackOrigin: api(props.primaryApi, ORIGIN_IDS.pageApi(config.region)),
        fallbackStatusCodes: [500, 502, 503, 504],
      })
      : primaryApi;
    this.readRouting = new cloudfront.Function(this, 'ReadRouting', {
      functionName: `${PREFIX}-${config.name}-read-routing`,
      code: cloudfront.FunctionCode.fromInline(edgeFunctionSource('read-routing', readRouting)),
      runtime: cloudfront.FunctionRuntime.JS_2_0,
      comment: `Registry ${config.name}: writes to the primary region, reads to the nearest`,
    });
    const readRoutingAssociation = [{ function: this.readRouting, eventType: cloudfront.FunctionEventType.VIEWER_REQUEST }];
    const { viewerLocation, blobCache, apiReads, passThrough } = edgeCachePolicies(this);

    const keyGroup = cloudfront.KeyGroup.fromKeyGroupId(this, 'KeyGroup', props.keyGroupId);

    this.uploadKeys = new cloudfront.KeyValueStore(this, 'UploadKeys', {
      comment: `Registry ${config.name}: keys the upload functions verify tokens with`,
    });
    this.uploadKeysPublisher = new UploadKeysPublisher(this, 'UploadKeysPublisher', {
      keyValueStore: this.uploadKeys,
      signingKeysSecretArn: props.signingKeysSecretArn,
      functionName: uploadKeysFunctionName(config),
      removalPolicy: config.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });

    // The upload behaviour's own origin is ingest when there is one (the origin a streamed body
    // belongs to), else the primary API; either way the viewer-request function selects the
    // origin of every request it lets through, among origins attached to this distribution.
    const uploadOrigin = props.ingest
      ? origins.VpcOrigin.withVpcOrigin(props.ingest.vpcOrigin, {
        originId: ORIGIN_IDS.ingest,
        domainName: props.ingest.domainName,
        readTimeout: Duration.seconds(ORIGIN_TIMEOUTS.ingest.read),
        keepaliveTimeout: Duration.seconds(ORIGIN_TIMEOUTS.ingest.keepalive),
      })
      : primaryApi;
    this.edgeConfig = {
      ingest: props.ingest !== undefined,
      edgeUploads: config.edgeUploads,
      s3Origin: ORIGIN_IDS.bucket(config.region),
      // With ingest off the function never selects it (it refuses those bodies); naming the API
      // keeps the id one that exists.
      ingestOrigin: props.ingest ? ORIGIN_IDS.ingest : ORIGIN_IDS.api,
      apiOrigin: ORIGIN_IDS.api,
    };
    this.viewerRequest = new cloudfront.Function(this, 'UploadViewerRequest', {
      functionName: `${PREFIX}-${config.name}-upload-viewer-request`,
      code: cloudfront.FunctionCode.fromInline(edgeFunctionSource('viewer-request', this.edgeConfig)),
      runtime: cloudfront.FunctionRuntime.JS_2_0,
      keyValueStore: this.uploadKeys,
      comment: `Registry ${config.name}: upload token check, S3 fast path, origin choice`,
    });
    this.viewerResponse = new cloudfront.Function(this, 'UploadViewerResponse', {
      functionName: `${PREFIX}-${config.name}-upload-viewer-response`,
      code: cloudfront.FunctionCode.fromInline(edgeFunctionSource('viewer-response')),
      runtime: cloudfront.FunctionRuntime.JS_2_0,
      comment: `Registry ${config.name}: S3's 200 to an edge upload becomes 201`,
    });
    const functionAssociations: cloudfront.FunctionAssociation[] = [
      { function: this.viewerRequest, eventType: cloudfront.FunctionEventType.VIEWER_REQUEST },
      { function: this.viewerResponse, eventType: cloudfront.FunctionEventType.VIEWER_RESPONSE },
    ];

    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: distributionComment(config.name),
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      enableIpv6: true,
      priceClass: PRICE_CLASSES[config.priceClass],
      ...(config.domain && certificate
        ? { domainNames: [config.domain.name], certificate, minimumProtocolVersion: cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021 }
        : {}),
      defaultBehavior: {
        ...passThrough,
        origin: primaryApi,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
        cachedMethods: cloudfront.CachedMethods.CACHE_GET_HEAD,
        cachePolicy: apiReads,
        functionAssociations: readRoutingAssociation,
        // `/` is the web interface's page (the read-routing function sends its reads to the bucket),
        // so this behaviour's answers carry the page's headers too: for the API's JSON, a CSP that
        // allows nothing, nosniff and no referrer are the usual hardening of an API.
        responseHeadersPolicy: this.webUi.headers,
      },
      // The primary API unreachable (502) or silent (504): an OCI error, not CloudFront's HTML page.
      // The page is the API's own, from its own behaviour (below), so a replica serves it.
      errorResponses: UNAVAILABLE_ERRORS.map((httpStatus) => ({ httpStatus, responseHttpStatus: 503, responsePagePath: UNAVAILABLE_PAGE_PATH, ttl: Duration.seconds(0) })),
      additionalBehaviors: {
        [BLOB_PATH]: {
          origin: primaryBucket,
          originRequestPolicy: viewerLocation,
          functionAssociations: readRoutingAssociation,
          allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
          cachedMethods: cloudfront.CachedMethods.CACHE_GET_HEAD,
          cachePolicy: blobCache,
          viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
          trustedKeyGroups: [keyGroup],
          compress: false,
        },
        // CloudFront fetches an error page as an origin request of the behaviour its path falls in,
        // with no viewer-request function: a GET-only behaviour of its own, whose static group starts
        // with the replica the primary fails over to, so the page comes while the primary is down.
        [UNAVAILABLE_PAGE_BEHAVIOUR]: {
          ...passThrough,
          origin: pageOrigin,
          allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
        },
        // The web interface's files (infra/constructs/web-ui.ts).
        [UI_ASSET_PATH]: this.webUi.behaviour(),
        [UI_PAGE_PATH]: this.webUi.behaviour(),
        [UPLOAD_PATH]: {
          ...passThrough,
          origin: uploadOrigin,
          // Every method; nothing cached; every viewer header (Content-Length, Content-Type, and the
          // x-amz-checksum-sha256 the function sets count as viewer headers) and every query
          // string (API, ingest) forwarded; Host stays the origin's own (S3, API Gateway, ALB).
          allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
          functionAssociations,
        },
      },
    });
    // The other regions' APIs and buckets: origins the read-routing function selects by id, on no
    // behaviour of their own. Distribution has no public method for that; addOrigin is the one its
    // behaviours and origin groups use (test/infra/edge.test.ts checks every id is in the template).
    const attach = this.distribution as unknown as { addOrigin(origin: cloudfront.IOrigin): string };
    for (const origin of [...replicaApis, ...replicaBuckets]) attach.addOrigin(origin);

    // The fast path goes live with the keys in place (a token whose key the edge lacks would only be
    // routed to the API/ingest, but there is no reason to start that way).
    this.distribution.node.addDependency(this.uploadKeysPublisher.resource);

    if (config.domain?.hostedZone) {
      const zone = route53.HostedZone.fromHostedZoneAttributes(this, 'Zone', {
        hostedZoneId: config.domain.hostedZone.id,
        zoneName: config.domain.hostedZone.name,
      });
      const target = route53.RecordTarget.fromAlias(new targets.CloudFrontTarget(this.distribution));
      new route53.ARecord(this, 'AliasA', { zone, recordName: config.domain.name, target });
      new route53.AaaaRecord(this, 'AliasAAAA', { zone, recordName: config.domain.name, target });
    }

    // The buckets live in the storage stacks of their regions, whose policies grant this
    // distribution (AWS:SourceArn) read access to blobs/* through the OAC.
    Validations.of(this.distribution).acknowledge({
      id: 'Annotation::@aws-cdk/aws-cloudfront-origins:updateImportedBucketPolicyOac',
      reason: 'Each bucket policy is written by the storage stack of its region (BlobBucket), scoped to this distribution.',
    });
    const nag = Validations.of(this.distribution);
    nag.acknowledge(
      { id: 'AwsSolutions-CFR1', reason: 'A registry serves pulls worldwide; geo restriction is a per-deployment policy choice.' },
      { id: 'AwsSolutions-CFR2', reason: 'WAF costs a fixed monthly fee per web ACL; the registry authenticates every request itself and the API stage is throttled. Attach a web ACL per environment when wanted.' },
      { id: 'AwsSolutions-CFR3', reason: 'API requests are logged by the API Gateway access logs of every region and edge health by CloudFront metrics and alarms; standard logging needs an ACL-enabled bucket.' },
    );
    if (!config.domain) {
      nag.acknowledge({
        id: 'AwsSolutions-CFR4',
        reason: 'An environment without a custom domain uses the *.cloudfront.net certificate, whose security policy CloudFront fixes; TLSv1.2_2021 applies as soon as a domain is configured.',
      });
    }
  }

  private certificate(config: EnvironmentConfig): acm.ICertificate | undefined {
    const domain = config.domain;
    if (!domain) return undefined;
    if (domain.hostedZone) {
      const zone = route53.HostedZone.fromHostedZoneAttributes(this, 'CertificateZone', {
        hostedZoneId: domain.hostedZone.id,
        zoneName: domain.hostedZone.name,
      });
      return new acm.Certificate(this, 'Certificate', {
        domainName: domain.name,
        validation: acm.CertificateValidation.fromDns(zone),
      });
    }
    return acm.Certificate.fromCertificateArn(this, 'Certificate', domain.certificateArn ?? '');
  }
}

const PRICE_CLASSES = {
  '100': cloudfront.PriceClass.PRICE_CLASS_100,
  '200': cloudfront.PriceClass.PRICE_CLASS_200,
  All: cloudfront.PriceClass.PRICE_CLASS_ALL,
} as const;
