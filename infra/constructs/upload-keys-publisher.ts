// Publishes the upload-token keys of the signing keys secret into the edge's KeyValueStore at deploy
// time, without the secret ever entering a template: a custom resource backed by a small Lambda
// (functions/apps/upload-keys-lambda, bundled by `npm run build`) that reads the secret and writes
// `upload-key-<kid>` = base64(key) with UpdateKeys, conditional on the store's ETag. It runs on
// create and whenever its properties change; after a rotation, invoke the function directly
// (docs/deploy.md). Its role may read that one secret and write that one store, nothing else.
import { runtimeEnvironment } from '../../functions/aws/env-contract.ts';
import { CustomResource, Duration } from 'aws-cdk-lib';
import type { RemovalPolicy } from 'aws-cdk-lib';
import type * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { RegistryFunction } from './registry-function.ts';

export interface UploadKeysPublisherProps {
  readonly keyValueStore: cloudfront.IKeyValueStore;
  /** The signing keys secret (any region: the function reads it in the region of its ARN). */
  readonly signingKeysSecretArn: string;
  readonly functionName: string;
  readonly removalPolicy: RemovalPolicy;
}

export const KVS_ACTIONS = ['cloudfront-keyvaluestore:DescribeKeyValueStore', 'cloudfront-keyvaluestore:ListKeys', 'cloudfront-keyvaluestore:UpdateKeys'];

export class UploadKeysPublisher extends Construct {
  readonly function: RegistryFunction;
  readonly resource: CustomResource;

  constructor(scope: Construct, id: string, props: UploadKeysPublisherProps) {
    super(scope, id);
    this.function = new RegistryFunction(this, 'Function', {
      bundle: 'upload-keys',
      functionName: props.functionName,
      memorySize: 256,
      timeout: Duration.minutes(2),
      removalPolicy: props.removalPolicy,
      // For direct invocations after a rotation; CloudFormation passes the same as properties.
      environment: runtimeEnvironment({ KVS_ARN: props.keyValueStore.keyValueStoreArn, SECRET_ARN: props.signingKeysSecretArn }),
    });
    this.function.role.addToPolicy(new iam.PolicyStatement({
      sid: 'ReadSigningKeys',
      actions: ['secretsmanager:GetSecretValue'],
      resources: [props.signingKeysSecretArn],
    }));
    this.function.role.addToPolicy(new iam.PolicyStatement({
      sid: 'WriteUploadKeys',
      actions: KVS_ACTIONS,
      resources: [props.keyValueStore.keyValueStoreArn],
    }));
    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: this.function.fn.functionArn,
      resourceType: 'Custom::UploadKeys',
      properties: { KvsArn: props.keyValueStore.keyValueStoreArn, SecretArn: props.signingKeysSecretArn },
    });
    // CloudFormation calls the function with its role's permissions in place.
    this.resource.node.addDependency(this.function.role);
  }
}
