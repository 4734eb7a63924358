// The web interface in AWS (docs/ui.md): what `npm run build` writes to dist/web/ (index.html,
// ui/*), copied at deploy time into a bucket of its own that only the distribution reads, through
// Origin Access Control. A bucket of its own rather than a prefix of the blob bucket: the blob
// bucket lives in the primary region's storage stack and is replicated to every replica region,
// its lifecycle rules and the GC walk its prefixes, and its policy is written there; this one lives
// next to the distribution (us-east-1), so the edge stack writes its policy itself, and nothing
// that collects, replicates or expires registry objects can ever reach a file of the interface.
import { DefaultStackSynthesizer, Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import { UI_OBJECT_GROUPS, UI_SECURITY_HEADERS } from '../../functions/web/headers.ts';
import { bundlePath } from './registry-function.ts';

export interface WebUiProps {
  readonly environment: string;
  /** Retained environments keep the bucket and its files when the stack goes. */
  readonly retain: boolean;
  /** The origin id on the distribution (the read-routing function selects it for `/`). */
  readonly originId: string;
}

export class WebUi extends Construct {
  readonly bucket: s3.Bucket;
  readonly origin: cloudfront.IOrigin;
  readonly headers: cloudfront.ResponseHeadersPolicy;
  readonly cachePolicy: cloudfront.CachePolicy;
  readonly deployments: deploy.BucketDeployment[];
  /** The role of CDK's deployment function (its Lambda copies the files; see the acknowledgements). */
  readonly deployRole: iam.Role;

  constructor(scope: Construct, id: string, props: WebUiProps) {
    super(scope, id);
    this.bucket = new s3.Bucket(this, 'Bucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      removalPolicy: props.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'Holds only the public files of the web interface, built from the repository and read by CloudFront alone; every read is a CloudFront request (its metrics), and access logs would need an ACL-enabled bucket of their own.',
    });
    const oac = new cloudfront.S3OriginAccessControl(this, 'Oac', {
      description: `Registry ${props.environment}: the web interface's files`,
      signing: cloudfront.Signing.SIGV4_ALWAYS,
    });
    // READ only: a missing file is S3's 403 (a reader that may not list), but nobody can list the bucket.
    this.origin = origins.S3BucketOrigin.withOriginAccessControl(this.bucket, {
      originAccessControl: oac,
      originId: props.originId,
      originAccessLevels: [cloudfront.AccessLevel.READ],
    });
    // The same headers `npm start` sends (functions/web/headers.ts), over any an origin sends.
    const h = UI_SECURITY_HEADERS;
    this.headers = new cloudfront.ResponseHeadersPolicy(this, 'Headers', {
      comment: 'Web interface: CSP, nosniff, no referrer, same-origin opener',
      securityHeadersBehavior: {
        contentSecurityPolicy: { contentSecurityPolicy: h['content-security-policy']!, override: true },
        contentTypeOptions: { override: true },
        referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.NO_REFERRER, override: true },
      },
      customHeadersBehavior: { customHeaders: [{ header: 'Cross-Origin-Opener-Policy', value: h['cross-origin-opener-policy']!, override: true }] },
    });
    // The objects' own Cache-Control decides (a year for hashed names, revalidate the rest): no
    // minimum, nothing but the path in the key, compressed copies kept apart.
    this.cachePolicy = new cloudfront.CachePolicy(this, 'Cache', {
      comment: 'Web interface files: as their Cache-Control says',
      minTtl: Duration.seconds(0),
      defaultTtl: Duration.days(1),
      maxTtl: Duration.days(365),
      queryStringBehavior: cloudfront.CacheQueryStringBehavior.none(),
      headerBehavior: cloudfront.CacheHeaderBehavior.none(),
      cookieBehavior: cloudfront.CacheCookieBehavior.none(),
      enableAcceptEncodingGzip: true,
      enableAcceptEncodingBrotli: true,
    });
    // One deployment per kind of file, each with its Content-Type and Cache-Control; the page last,
    // so it never names a script or stylesheet the bucket does not have yet.
    const source = deploy.Source.asset(bundlePath('web', 'index.html'));
    // CDK's deployment function (one per stack, shared by the deployments below): a role of our own,
    // so no managed policy (logs to its own group only); CDK adds what the copy needs (read the
    // asset, read/write/delete in this bucket).
    const logGroup = new logs.LogGroup(this, 'DeployLogs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: props.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    this.deployRole = new iam.Role(this, 'DeployRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Copies the web interface into its bucket at deploy time',
    });
    this.deployRole.addToPolicy(new iam.PolicyStatement({
      sid: 'WriteOwnLogs',
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      resources: [logGroup.logGroupArn],
    }));
    this.deployments = UI_OBJECT_GROUPS.map((g) => new deploy.BucketDeployment(this, g.name, {
      sources: [source],
      destinationBucket: this.bucket,
      exclude: ['*'],
      include: [g.glob],
      prune: g.prune,
      retainOnDelete: props.retain,
      contentType: g.contentType,
      cacheControl: [deploy.CacheControl.fromString(g.cacheControl)],
      memoryLimit: 256,
      role: this.deployRole,
      logGroup,
    }));
    const page = this.deployments.at(-1)!;
    for (const d of this.deployments.slice(0, -1)) page.node.addDependency(d);
    this.acknowledgeDeployment();
  }

  /**
   * A behaviour of the interface's files (`/ui/*`, `/index.html`): GET/HEAD from the bucket, no
   * signed URLs (anyone may load the page; what it shows is checked by the API), no function,
   * nothing in the cache key but the path.
   */
  behaviour(): cloudfront.BehaviorOptions {
    return {
      origin: this.origin,
      allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
      cachedMethods: cloudfront.CachedMethods.CACHE_GET_HEAD,
      cachePolicy: this.cachePolicy,
      responseHeadersPolicy: this.headers,
      viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
      compress: true,
    };
  }

  /** What cdk-nag finds in CDK's own deployment function and the grants CDK writes for it. */
  private acknowledgeDeployment(): void {
    const stack = Stack.of(this);
    Validations.of(this.deployRole).acknowledge(
      ...['s3:GetBucket*', 's3:GetObject*', 's3:List*', 's3:Abort*', 's3:DeleteObject*'].map((action) => ({
        id: `AwsSolutions-IAM5[Action::${action}]`,
        reason: 'CDK\'s BucketDeployment grants (grantRead of its asset, grantReadWrite of the destination): the copy (aws s3 sync with --delete) lists, reads, writes and deletes the interface\'s files, in this bucket and its asset only.',
      })),
      {
        id: `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(this.bucket.node.defaultChild as s3.CfnBucket)}.Arn>/*]`,
        reason: 'Every object of the web interface\'s own bucket: the deployment replaces the whole interface; no registry data is in this bucket.',
      },
      {
        // The CDK bootstrap's asset bucket of this account and region (the synthesizer's name for it).
        id: `AwsSolutions-IAM5[Resource::arn:aws:s3:::cdk-${DefaultStackSynthesizer.DEFAULT_QUALIFIER}-assets-${Token.isUnresolved(stack.account) ? '<AWS::AccountId>' : stack.account}-${stack.region}/*]`,
        reason: 'The zipped files are read from the CDK asset bucket under a key CDK names by their hash: grantRead of that asset, as CDK writes it.',
      },
    );
    const handler = stack.node.children.find((c) => c.node.id.startsWith('Custom::CDKBucketDeployment'));
    if (!handler) throw new Error('no BucketDeployment function in the stack');
    Validations.of(handler).acknowledge({
      id: 'AwsSolutions-L1',
      reason: 'CDK\'s own BucketDeployment function: its Python runtime is the one CDK ships and tests the handler (and its AWS CLI layer) with; it runs only during deployments.',
    });
  }
}
