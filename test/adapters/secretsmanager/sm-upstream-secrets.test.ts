// Proxy projects' upstream credentials in Secrets Manager. There is no Secrets Manager stand-in on
// this machine (start:aws uses a folder, like its other secrets), so the client is mocked at the SDK
// (aws-sdk-client-mock): what is asserted is the calls sent (names under the prefix, the JSON body)
// and how each answer of the service, its errors included, is taken.
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
  InvalidRequestException,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  RestoreSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { SecretsManagerUpstreamSecrets, upstreamSecretPrefix } from '../../../functions/adapters/secretsmanager/sm-upstream-secrets.ts';

const sm = mockClient(SecretsManagerClient);
const meta = { $metadata: {} };
const notFound = () => new ResourceNotFoundException({ message: 'not found', ...meta });
const secrets = new SecretsManagerUpstreamSecrets(new SecretsManagerClient({ region: 'us-east-1' }), upstreamSecretPrefix('prod'));
const creds = { username: 'bot', password: 'p4ss"word' };

beforeEach(() => sm.reset());
afterAll(() => sm.restore());

describe('SecretsManagerUpstreamSecrets', () => {
  it('one secret per project under the environment prefix, holding the credentials as JSON', async () => {
    sm.on(CreateSecretCommand).resolves({});
    await secrets.put('hub', creds);
    const input = sm.commandCalls(CreateSecretCommand)[0]!.args[0].input;
    expect(input.Name).toBe('oci-registry/prod/upstream/hub');
    expect(JSON.parse(input.SecretString!)).toEqual(creds);
    expect(input.Description).not.toContain(creds.password);

    sm.on(GetSecretValueCommand, { SecretId: 'oci-registry/prod/upstream/hub' }).resolves({ SecretString: JSON.stringify(creds) });
    expect(await secrets.get('hub')).toEqual(creds);
  });

  it('get: none stored, or not credentials, is undefined; another error is thrown', async () => {
    sm.on(GetSecretValueCommand, { SecretId: 'oci-registry/prod/upstream/none' }).rejects(notFound());
    sm.on(GetSecretValueCommand, { SecretId: 'oci-registry/prod/upstream/junk' }).resolves({ SecretString: 'not json' });
    sm.on(GetSecretValueCommand, { SecretId: 'oci-registry/prod/upstream/half' }).resolves({ SecretString: '{"username":"x"}' });
    sm.on(GetSecretValueCommand, { SecretId: 'oci-registry/prod/upstream/binary' }).resolves({});
    sm.on(GetSecretValueCommand, { SecretId: 'oci-registry/prod/upstream/denied' }).rejects(new Error('AccessDeniedException'));
    for (const p of ['none', 'junk', 'half', 'binary']) expect(await secrets.get(p), p).toBeUndefined();
    await expect(secrets.get('denied')).rejects.toThrow('AccessDeniedException');
  });

  it('put over an existing secret replaces its value; over one scheduled for deletion restores it first', async () => {
    sm.on(CreateSecretCommand).rejects(new ResourceExistsException({ message: 'exists', ...meta }));
    sm.on(PutSecretValueCommand).resolvesOnce({});
    await secrets.put('hub', creds);
    expect(sm.commandCalls(PutSecretValueCommand)[0]!.args[0].input).toMatchObject({ SecretId: 'oci-registry/prod/upstream/hub' });
    expect(sm.commandCalls(RestoreSecretCommand)).toHaveLength(0);

    sm.reset();
    sm.on(CreateSecretCommand).rejects(new ResourceExistsException({ message: 'exists', ...meta }));
    sm.on(PutSecretValueCommand).rejectsOnce(new InvalidRequestException({ message: 'marked for deletion', ...meta })).resolves({});
    sm.on(RestoreSecretCommand).resolves({});
    await secrets.put('hub', creds);
    expect(sm.commandCalls(RestoreSecretCommand)).toHaveLength(1);
    expect(sm.commandCalls(PutSecretValueCommand)).toHaveLength(2);

    sm.reset();
    sm.on(CreateSecretCommand).rejects(new ResourceExistsException({ message: 'exists', ...meta }));
    sm.on(PutSecretValueCommand).rejects(new Error('ThrottlingException'));
    await expect(secrets.put('hub', creds)).rejects.toThrow('ThrottlingException');
    sm.reset();
    sm.on(CreateSecretCommand).rejects(new Error('AccessDeniedException'));
    await expect(secrets.put('hub', creds)).rejects.toThrow('AccessDeniedException');
  });

  it('delete schedules the deletion (7 days to restore); none there is fine; another error is thrown', async () => {
    sm.on(DeleteSecretCommand).resolvesOnce({}).rejectsOnce(notFound()).rejects(new Error('AccessDeniedException'));
    await secrets.delete('hub');
    expect(sm.commandCalls(DeleteSecretCommand)[0]!.args[0].input).toEqual({ SecretId: 'oci-registry/prod/upstream/hub', RecoveryWindowInDays: 7 });
    await secrets.delete('hub');
    await expect(secrets.delete('hub')).rejects.toThrow('AccessDeniedException');
  });

  it('refuses a name that is not a project name (no other secret can be named)', async () => {
    for (const bad of ['../signing-keys', 'a/b', '', 'Hub']) await expect(secrets.get(bad), bad).rejects.toThrow('not a project name');
    expect(sm.calls()).toHaveLength(0);
  });
});
