// A registry Lambda: the esbuild bundle `npm run build` writes to dist/<name>/index.mjs, arm64,
// Node 24, its own log group, and a role holding only the statements its stack adds (no managed
// policies).
import type { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export interface RegistryFunctionProps {
  /** Directory under dist/ holding index.mjs (api, events, upload-keys, gc, token-key-rotation). */
  readonly bundle: 'api' | 'events' | 'upload-keys' | 'gc' | 'token-key-rotation';
  readonly functionName?: string;
  readonly memorySize: number;
  readonly timeout: Duration;
  readonly environment: Record<string, string>;
  readonly removalPolicy: RemovalPolicy;
}

/** Where `npm run build` writes its bundles, relative to the project root (cwd of synth). */
export const DIST_DIR = 'dist';

/** dist/<bundle>, which must hold `entry` (index.mjs of a Lambda bundle; index.html of the web interface). */
export function bundlePath(bundle: string, entry = 'index.mjs'): string {
  const dir = join(DIST_DIR, bundle);
  if (!existsSync(join(dir, entry))) {
    throw new Error(`${join(dir, entry)} is missing: run \`npm run build\` before synth (\`npm run synth\` does both)`);
  }
  return dir;
}

export class RegistryFunction extends Construct {
  readonly fn: lambda.Function;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: RegistryFunctionProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: props.removalPolicy,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Registry ${props.bundle} function`,
    });
    this.role.addToPolicy(new iam.PolicyStatement({
      sid: 'WriteOwnLogs',
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      resources: [this.logGroup.logGroupArn],
    }));
    this.fn = new lambda.Function(this, 'Function', {
      ...(props.functionName ? { functionName: props.functionName } : {}),
      code: lambda.Code.fromAsset(bundlePath(props.bundle)),
      handler: 'index.handler',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize,
      timeout: props.timeout,
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      environment: props.environment,
    });
  }
}
