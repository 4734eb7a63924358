// Keys: the HMAC signing keys (upload tokens, blob URLs), the CloudFront private key secret the
// operator fills in, and the CloudFront public key + key group that blob URLs are checked with.
// Both secrets are replicated to every replica region, where the replica APIs read them.
import { RemovalPolicy, SecretValue, Stack, Validations } from 'aws-cdk-lib';
import type { StackProps } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import type { EnvironmentConfig } from '../config.ts';
import { cdnPrivateKeySecretName, EDGE_REGION, keysSecretName, originSecretName, tokenKeysSecretName } from '../names.ts';

export interface KeysStackProps extends StackProps {
  readonly config: EnvironmentConfig;
}

/** Placeholder until the operator stores the PEM private key (docs/deploy.md). */
export const CDN_PRIVATE_KEY_PLACEHOLDER = 'REPLACE-WITH-THE-PEM-PRIVATE-KEY-OF-THE-CDN-KEY-PAIR';

export class KeysStack extends Stack {
  readonly signingKeys: secretsmanager.Secret;
  readonly cdnPrivateKey: secretsmanager.Secret;
  /** The seed of the ES256 key registry tokens are signed with (Docker token auth). */
  readonly tokenKeys: secretsmanager.Secret;
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
    for (const secret of [this.signingKeys, this.tokenKeys, this.originSecret, this.cdnPrivateKey]) {
      Validations.of(secret).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason: 'Rotation is an operator step (docs/deploy.md): signing keys carry a key id, and the CDN private key must change together with the public key in the key group.',
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
