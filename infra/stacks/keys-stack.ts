// Keys: the HMAC signing keys (upload tokens, blob URLs), the token keys (the seed of the ES256 key
// registry tokens are signed with, rotated every 30 days by a rotation Lambda), the CloudFront
// private key secret the operator fills in, and the CloudFront public key + key group that blob URLs
// are checked with. The secrets are replicated to every replica region, where the replica APIs read
// them; rotation runs here, in the primary, and Secrets Manager replicates each new version.
import { Duration, RemovalPolicy, SecretValue, Stack, Validations } from 'aws-cdk-lib';
import type { StackProps } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { runtimeEnvironment } from '../../functions/aws/env-contract.ts';
import type { EnvironmentConfig } from '../config.ts';
import { RegistryFunction } from '../constructs/registry-function.ts';
import { cdnPrivateKeySecretName, EDGE_REGION, keysSecretName, originSecretName, tokenKeyRotationName, tokenKeysSecretName } from '../names.ts';

export interface KeysStackProps extends StackProps {
  readonly config: EnvironmentConfig;
}

/** How often the token keys rotate (a refresh token of the old key keeps verifying its whole life: docs/auth.md). */
export const TOKEN_KEY_ROTATION_DAYS = 30;
/** The Powertools service name of the rotation Lambda. */
export const TOKEN_KEY_ROTATION_SERVICE = 'oci-registry-token-key-rotation';

/** Placeholder until the operator stores the PEM private key (docs/deploy.md). */
export const CDN_PRIVATE_KEY_PLACEHOLDER = 'REPLACE-WITH-THE-PEM-PRIVATE-KEY-OF-THE-CDN-KEY-PAIR';

export class KeysStack extends Stack {
  readonly signingKeys: secretsmanager.Secret;
  readonly cdnPrivateKey: secretsmanager.Secret;
  /** The seed of the ES256 key registry tokens are signed with (Docker token auth). */
  readonly tokenKeys: secretsmanager.Secret;
  /** Rotates `tokenKeys` (functions/aws/token-key-rotation.ts), invoked by Secrets Manager. */
  readonly tokenKeyRotation: RegistryFunction;
  /** What CloudFront sends the API origins in a custom header: the APIs refuse requests without it. */
  readonly originSecret: secretsmanager.Secret;
  readonly publicKey: cloudfront.PublicKey;
  readonly keyGroup: cloudfront.KeyGroup;

  constructor(scope: Construct, id: string, props: KeysStackProps) {
    super(scope, id, props);
    const { config } = props;
    const removalPolicy = config.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    const replicaRegions = config.replicaRegions.map((region) => ({ region }));

    // {"kid":"k1","key":"<64 random characters>"}: one key with its id, so a rotation can add
    // a second key the verifiers accept while the signers move over.
    const keySecret = (id: string, secretName: string, description: string, kid: string, replicas = replicaRegions) => new secretsmanager.Secret(this, id, {
      secretName,
      description,
      generateSecretString: { secretStringTemplate: JSON.stringify({ kid }), generateStringKey: 'key', passwordLength: 64, excludePunctuation: true },
      replicaRegions: replicas,
      removalPolicy,
    });
    this.signingKeys = keySecret('SigningKeys', keysSecretName(config), `HMAC keys signing upload tokens and blob URLs of registry ${config.name}`, 'k1');
    // The same shape: the API and ingest derive the P-256 token signing key from `key` (HKDF); a
    // rotation adds the new key first and keeps the old one under `previous` until its tokens expire.
    this.tokenKeys = keySecret('TokenKeys', tokenKeysSecretName(config), `Seed of the ES256 key signing registry tokens of registry ${config.name}`, 't1');
    this.tokenKeyRotation = new RegistryFunction(this, 'TokenKeyRotation', {
      bundle: 'token-key-rotation',
      functionName: tokenKeyRotationName(config),
      memorySize: 256,
      timeout: Duration.seconds(30),
      removalPolicy,
      environment: runtimeEnvironment({ POWERTOOLS_SERVICE_NAME: TOKEN_KEY_ROTATION_SERVICE }),
    });
    // CDK grants the function exactly the calls a rotation makes: DescribeSecret, GetSecretValue,
    // PutSecretValue and UpdateSecretVersionStage on this secret, GetRandomPassword (no resource),
    // and lets Secrets Manager invoke it. The first rotation is 30 days after the deploy, not at it:
    // `aws secretsmanager rotate-secret` rotates now (docs/auth.md).
    this.tokenKeys.addRotationSchedule('Rotation', {
      rotationLambda: this.tokenKeyRotation.fn,
      automaticallyAfter: Duration.days(TOKEN_KEY_ROTATION_DAYS),
      rotateImmediatelyOnUpdate: false,
    });
    Validations.of(this.tokenKeyRotation.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'secretsmanager:GetRandomPassword (the new key) supports no resource-level permissions; every other action is on the token keys secret alone.',
    });
    // The distribution's template resolves it in us-east-1 (a dynamic reference reads its own region).
    const withEdge = config.region === EDGE_REGION || config.replicaRegions.includes(EDGE_REGION) ? replicaRegions : [...replicaRegions, { region: EDGE_REGION }];
    this.originSecret = keySecret('OriginSecret', originSecretName(config), `Value CloudFront sends to the API origins of registry ${config.name}; the APIs refuse requests without it`, 'o1', withEdge);
    this.cdnPrivateKey = new secretsmanager.Secret(this, 'CdnPrivateKey', {
      secretName: cdnPrivateKeySecretName(config),
      description: `PEM private key of the CloudFront key pair of registry ${config.name}; fill in after the first deploy`,
      secretStringValue: SecretValue.unsafePlainText(CDN_PRIVATE_KEY_PLACEHOLDER),
      replicaRegions,
      removalPolicy,
    });
    for (const secret of [this.signingKeys, this.originSecret, this.cdnPrivateKey]) {
      Validations.of(secret).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason: 'Rotation is an operator step (docs/deploy.md): the upload keys must reach the edge KeyValueStore first, the origin secret needs an edge deploy, and the CDN private key must change together with the public key in the key group.',
      });
    }

    this.publicKey = new cloudfront.PublicKey(this, 'CdnPublicKey', {
      encodedKey: config.cdnPublicKeyPem,
      comment: `Blob URL signatures of registry ${config.name}`,
    });
    this.keyGroup = new cloudfront.KeyGroup(this, 'CdnKeyGroup', {
      items: [this.publicKey],
      comment: `Blob URL signers of registry ${config.name}`,
    });
  }
}
