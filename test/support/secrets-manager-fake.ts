// A Secrets Manager secret with versions and staging labels, behind a SecretsManagerClient mocked at
// the SDK (aws-sdk-client-mock: there is no local Secrets Manager): what a rotation sees of the
// service (DescribeSecret, GetSecretValue by version and stage, GetRandomPassword, PutSecretValue,
// UpdateSecretVersionStage, as the API reference describes them) and a record of every call.
import { randomBytes } from 'node:crypto';
import {
  DescribeSecretCommand,
  GetRandomPasswordCommand,
  GetSecretValueCommand,
  InvalidParameterException,
  PutSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';

export interface SecretCall {
  action: string;
  secretId?: string;
  input: Record<string, unknown>;
}

const notFound = (message: string) => new ResourceNotFoundException({ message, $metadata: {} });

export class FakeSecret {
  readonly client = new SecretsManagerClient({ region: 'us-east-1' });
  readonly mock: AwsClientStub<SecretsManagerClient>;
  readonly calls: SecretCall[] = [];
  rotationEnabled = true;
  /** version id -> stages and value (a version RotateSecret staged has no value yet). */
  readonly versions = new Map<string, { stages: string[]; value?: string }>();

  readonly arn: string;

  /** `every`: mock every SecretsManagerClient (one a module builds itself), not only `client`. */
  constructor(arn: string, value: string, every = false) {
    this.arn = arn;
    this.versions.set('v1', { stages: ['AWSCURRENT'], value });
    this.mock = every ? mockClient(SecretsManagerClient) : mockClient(this.client);
    const record = (action: string) => (input: Record<string, unknown>) => {
      this.calls.push({ action, secretId: input.SecretId as string | undefined, input });
      if (input.SecretId !== undefined && input.SecretId !== this.arn) throw notFound(`no secret ${String(input.SecretId)}`);
    };
    this.mock.on(DescribeSecretCommand).callsFake((input) => {
      record('DescribeSecret')(input);
      return { ARN: this.arn, RotationEnabled: this.rotationEnabled, VersionIdsToStages: Object.fromEntries([...this.versions].map(([id, v]) => [id, [...v.stages]])) };
    });
    this.mock.on(GetSecretValueCommand).callsFake((input: { VersionId?: string; VersionStage?: string }) => {
      record('GetSecretValue')(input);
      const found = input.VersionId !== undefined
        ? [input.VersionId, this.versions.get(input.VersionId)] as const
        : [...this.versions].find(([, v]) => v.stages.includes(input.VersionStage ?? 'AWSCURRENT'));
      const [id, v] = found ?? [];
      if (!v || v.value === undefined || (input.VersionStage && !v.stages.includes(input.VersionStage))) throw notFound("Secrets Manager can't find the specified secret value");
      return { ARN: this.arn, VersionId: id, SecretString: v.value, VersionStages: v.stages };
    });
    this.mock.on(GetRandomPasswordCommand).callsFake((input: { PasswordLength?: number }) => {
      record('GetRandomPassword')(input);
      return { RandomPassword: randomBytes(64).toString('base64').replace(/[^A-Za-z0-9]/g, '').slice(0, input.PasswordLength ?? 32) };
    });
    this.mock.on(PutSecretValueCommand).callsFake((input: { ClientRequestToken: string; SecretString: string; VersionStages?: string[] }) => {
      record('PutSecretValue')(input);
      const stages = input.VersionStages ?? ['AWSCURRENT'];
      for (const v of this.versions.values()) v.stages = v.stages.filter((s) => !stages.includes(s));
      this.versions.set(input.ClientRequestToken, { stages, value: input.SecretString });
      return { ARN: this.arn, VersionId: input.ClientRequestToken, VersionStages: stages };
    });
    this.mock.on(UpdateSecretVersionStageCommand).callsFake((input: { VersionStage: string; MoveToVersionId?: string; RemoveFromVersionId?: string }) => {
      record('UpdateSecretVersionStage')(input);
      const holder = [...this.versions].find(([, v]) => v.stages.includes(input.VersionStage))?.[0];
      if (holder !== undefined && holder !== input.MoveToVersionId && holder !== input.RemoveFromVersionId) {
        throw new InvalidParameterException({ message: `${input.VersionStage} is on ${holder}: name it in RemoveFromVersionId`, $metadata: {} });
      }
      const to = input.MoveToVersionId === undefined ? undefined : this.versions.get(input.MoveToVersionId);
      if (input.MoveToVersionId !== undefined && !to) throw notFound(`no version ${input.MoveToVersionId}`);
      if (holder !== undefined) {
        const from = this.versions.get(holder)!;
        from.stages = from.stages.filter((s) => s !== input.VersionStage);
        // Moving AWSCURRENT labels the version it left AWSPREVIOUS.
        if (input.VersionStage === 'AWSCURRENT') {
          for (const v of this.versions.values()) v.stages = v.stages.filter((s) => s !== 'AWSPREVIOUS');
          from.stages.push('AWSPREVIOUS');
        }
      }
      if (to && !to.stages.includes(input.VersionStage)) to.stages.push(input.VersionStage);
      return { ARN: this.arn };
    });
  }

  /** What RotateSecret does before invoking the function: a new version id staged AWSPENDING, no value yet. */
  startRotation(token: string): void {
    for (const v of this.versions.values()) v.stages = v.stages.filter((s) => s !== 'AWSPENDING');
    this.versions.set(token, { stages: ['AWSPENDING'] });
  }

  current(): string {
    return [...this.versions.values()].find((v) => v.stages.includes('AWSCURRENT'))!.value!;
  }

  restore(): void {
    this.mock.restore();
  }
}
