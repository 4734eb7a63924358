// Upstream credentials of proxy projects in Secrets Manager: one secret per project, named
// `<prefix><project>` (the deployment's prefix is `oci-registry/<env>/upstream/`, infra/names.ts),
// holding `{"username","password"}`. The admin CLI writes it with the operator's credentials; the API
// Lambda only reads it (GetSecretValue on that prefix). Nothing here logs or returns a credential.
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
  InvalidRequestException,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  RestoreSecretCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { UpstreamCredentials, UpstreamSecrets } from '../../core/proxy/model.ts';

/** The secrets' name prefix of a deployment (`--env`): the admin CLI's, and infra/names.ts's for the API's grant. */
export const upstreamSecretPrefix = (env: string): string => `oci-registry/${env}/upstream/`;

/** Days a deleted project's secret can still be restored (Secrets Manager's minimum is 7). */
const RECOVERY_DAYS = 7;

export class SecretsManagerUpstreamSecrets implements UpstreamSecrets {
  readonly #client: SecretsManagerClient;
  readonly #prefix: string;

  constructor(client: SecretsManagerClient, prefix: string) {
    this.#client = client;
    this.#prefix = prefix;
  }

  // Project names are a-z 0-9 . _ - (checkProjectName): valid in a secret name as they are.
  name(project: string): string {
    if (!/^[a-z0-9][a-z0-9._-]*$/.test(project)) throw new Error('not a project name');
    return `${this.#prefix}${project}`;
  }

  async get(project: string): Promise<UpstreamCredentials | undefined> {
    let text: string | undefined;
    try {
      text = (await this.#client.send(new GetSecretValueCommand({ SecretId: this.name(project) }))).SecretString;
    } catch (e) {
      if (e instanceof ResourceNotFoundException) return undefined;
      throw e;
    }
    let parsed: Partial<UpstreamCredentials>;
    try {
      parsed = JSON.parse(text ?? '') as Partial<UpstreamCredentials>;
    } catch {
      return undefined;
    }
    return typeof parsed.username === 'string' && typeof parsed.password === 'string' ? { username: parsed.username, password: parsed.password } : undefined;
  }

  async put(project: string, credentials: UpstreamCredentials): Promise<void> {
    const SecretString = JSON.stringify({ username: credentials.username, password: credentials.password });
    const SecretId = this.name(project);
    try {
      await this.#client.send(new CreateSecretCommand({ Name: SecretId, SecretString, Description: `Upstream registry credentials of the proxy project ${project}` }));
    } catch (e) {
      if (!(e instanceof ResourceExistsException)) throw e;
      // A project of that name existed before (its secret kept): the new credentials replace it.
      try {
        await this.#client.send(new PutSecretValueCommand({ SecretId, SecretString }));
      } catch (again) {
        // Its secret is scheduled for deletion (the project was deleted): restored, then replaced.
        if (!(again instanceof InvalidRequestException)) throw again;
        await this.#client.send(new RestoreSecretCommand({ SecretId }));
        await this.#client.send(new PutSecretValueCommand({ SecretId, SecretString }));
      }
    }
  }

  async delete(project: string): Promise<void> {
    try {
      await this.#client.send(new DeleteSecretCommand({ SecretId: this.name(project), RecoveryWindowInDays: RECOVERY_DAYS }));
    } catch (e) {
      if (!(e instanceof ResourceNotFoundException)) throw e;
    }
  }
}
