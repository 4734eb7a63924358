// Edge: the one CloudFront distribution of an environment, on its custom domain. Lives in
// us-east-1, where CloudFront's certificates and metrics are.
//
// Behaviours (first match wins, most specific first):
//   /blobs/*                   S3 through OAC, signed URLs (trusted key group), cached; origin
//                              group primary bucket -> replica bucket
//   /v2/*/blobs/uploads/*      the upload CloudFront Functions (functions/edge) and their
//                              KeyValueStore: the viewer-request function picks the origin of each
//                              request by id (S3 fast path, ingest, or the primary API)
//   /v2/*/tags/list, /v2/*/referrers/<digest>, /v2/_catalog, /v2/
//                              GET/HEAD only: origin group primary API -> replica API
//   * (default)                the primary API, every method, nothing cached
// CloudFront refuses an origin group on a behaviour that allows POST/PUT/PATCH/DELETE, and
// manifests and blobs share their paths with PUT and DELETE: see docs/deploy.md.
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type { StackProps } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as targets from 'aws-cdk-lib/aws-route53-targets';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { edgeFunctionSource, READ_ONLY_PATHS, UPLOAD_PATH } from '../../functions/edge/source.ts';
import type { EdgeConfig } from '../../functions/edge/source.ts';
import type { EnvironmentConfig } from '../config.ts';
import { UploadKeysPublisher } from '../constructs/upload-keys-publisher.ts';
import { bucketName, bucketRegionalDomainName, KEY_PREFIXES, PREFIX, uploadKeysFunctionName } from '../names.ts';

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
  /** The primary API for every method (default and upload behaviours). */
  api: 'api',
  /** Members of the GET/HEAD failover group of the read-only API paths. */
  readApi: (region: string) => `api-read-${region}`,
  ingest: 'ingest',
  /** The blob bucket of a region through OAC; the primary's is also the edge fast path's target. */
  bucket: (region: string) => `blobs-${region}`,
} as const;

export const FAILOVER_STATUS_CODES = [500, 502, 503, 504];
export const BLOB_PATH = `/${KEY_PREFIXES.blobs}*`;

export class EdgeStack extends Stack {
  readonly distribution: cloudfront.Distribution;
  readonly uploadKeys: cloudfront.KeyValueStore;
  readonly uploadKeysPublisher: UploadKeysPublisher;
  readonly viewerRequest: cloudfront.Function;
  readonly viewerResponse: cloudfront.Function;
  /** The settings written into the deployed viewer-request function. */
  readonly edgeConfig: EdgeConfig;

  constructor(scope: Construct, id: string, props: EdgeStackProps) {
    super(scope, id, props);
    const { config } = props;

    const certificate = this.certificate(config);

    const api = (o: ApiOrigin, originId: string) => new origins.HttpOrigin(o.domainName, {
      originId,
      protocolPolicy: cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
      originSslProtocols: [cloudfront.OriginSslPolicy.TLS_V1_2],
      readTimeout: Duration.seconds(30),
    });
    const primaryApi = api(props.primaryApi, ORIGIN_IDS.api);
    const replicaApi = props.replicaApis[0];
    const readApi = replicaApi
      ? new origins.OriginGroup({
        primaryOrigin: api(props.primaryApi, ORIGIN_IDS.readApi(props.primaryApi.region)),
        fallbackOrigin: api(replicaApi, ORIGIN_IDS.readApi(replicaApi.region)),
        fallbackStatusCodes: FAILOVER_STATUS_CODES,
      })
      : primaryApi;

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
      { originAccessControl: oac, originId: ORIGIN_IDS.bucket(region) },
    );
    // The primary bucket's origin is the fast path's target too: selected by id, whether it stands
    // alone or is the primary member of the blob failover group.
    const primaryBucket = bucketOrigin(config.region);
    const firstReplica = config.replicaRegions[0];
    const blobs = firstReplica
      ? new origins.OriginGroup({ primaryOrigin: primaryBucket, fallbackOrigin: bucketOrigin(firstReplica), fallbackStatusCodes: FAILOVER_STATUS_CODES })
      : primaryBucket;

    const keyGroup = cloudfront.KeyGroup.fromKeyGroupId(this, 'KeyGroup', props.keyGroupId);
    // Content-addressed and immutable: one cached copy per edge serves every puller. The signature
    // (Expires, Signature, Key-Pair-Id) is checked by CloudFront and kept out of the cache key.
    const blobCache = new cloudfront.CachePolicy(this, 'BlobCache', {
      comment: 'Blobs by digest: immutable, signature not in the key',
      defaultTtl: Duration.days(7),
      maxTtl: Duration.days(365),
      minTtl: Duration.seconds(0),
      queryStringBehavior: cloudfront.CacheQueryStringBehavior.none(),
      headerBehavior: cloudfront.CacheHeaderBehavior.none(),
      cookieBehavior: cloudfront.CacheCookieBehavior.none(),
      enableAcceptEncodingGzip: false,
      enableAcceptEncodingBrotli: false,
    });

    // The API sees its own Host (API Gateway routes on it): every viewer header but Host, every
    // query string, nothing cached. With caching disabled this policy also forwards Authorization.
    const passThrough = {
      cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
      originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
      viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
      compress: false,
    };

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
        readTimeout: Duration.seconds(60),
        keepaliveTimeout: Duration.seconds(60),
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

    const readOnlyBehaviours = Object.fromEntries(READ_ONLY_PATHS.map((path) => [path, {
      ...passThrough,
      origin: readApi,
      allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
    }]));

    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: `OCI registry ${config.name}`,
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      enableIpv6: true,
      priceClass: PRICE_CLASSES[config.priceClass],
      ...(config.domain && certificate
        ? { domainNames: [config.domain.name], certificate, minimumProtocolVersion: cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021 }
        : {}),
      defaultBehavior: { ...passThrough, origin: primaryApi, allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL },
      additionalBehaviors: {
        [BLOB_PATH]: {
          origin: blobs,
          allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
          cachedMethods: cloudfront.CachedMethods.CACHE_GET_HEAD,
          cachePolicy: blobCache,
          viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
          trustedKeyGroups: [keyGroup],
          compress: false,
        },
        [UPLOAD_PATH]: {
          ...passThrough,
          origin: uploadOrigin,
          // Every method; nothing cached; every viewer header (Content-Length, Content-Type, and the
          // x-amz-checksum-sha256 the function sets count as viewer headers) and every query
          // string (API, ingest) forwarded; Host stays the origin's own (S3, API Gateway, ALB).
          allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
          functionAssociations,
        },
        ...readOnlyBehaviours,
      },
    });

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
