// Rotation of the token keys secret (`oci-registry/<env>/token-keys`, JSON {kid, key, previous}):
// Secrets Manager's four-step protocol, one step per invocation of the rotation Lambda
// (functions/apps/token-key-rotation-lambda), every 30 days or on `aws secretsmanager rotate-secret`.
// - createSecret: a new 64-character key from GetRandomPassword becomes `kid`/`key` of a version
//   staged AWSPENDING; the current key moves to the front of `previous`, stamped `retiredAt`. Keys
//   retired longer ago than a refresh token lives (REGISTRY_REFRESH_TOKEN_DAYS) plus a day are
//   dropped: no token they signed can still be valid. Idempotent: a retried step finds its pending
//   version and writes nothing.
// - setSecret: nothing to set elsewhere: the API and ingest read the secret themselves.
// - testSecret: the pending value parses, its keys derive, a token it signs verifies, and it still
//   holds the current key (tokens already handed out keep verifying).
// - finishSecret: AWSCURRENT moves to the new version (from the old current one).
// Running processes pick the new key up within 5 minutes, or at once on a token of the new key
// (core/auth/token-key-source.ts). The secret is replicated: rotation runs in the primary region and
// Secrets Manager copies each version to the replicas. Nothing here logs a key.
import {
  DescribeSecretCommand,
  GetRandomPasswordCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  UpdateSecretVersionStageCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { intSetting, type Env } from '../config/env-settings.ts';
import { TokenService } from '../core/auth/jwt.ts';
import { tokenKeysFrom } from '../core/auth/token-keys.ts';
import { parseSigningKeys } from './signing-keys.ts';

export const ROTATION_STEPS = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const;
export type RotationStep = (typeof ROTATION_STEPS)[number];

/** What Secrets Manager invokes the rotation function with. */
export interface RotationEvent {
  Step?: unknown;
  SecretId?: unknown;
  ClientRequestToken?: unknown;
}

export class RotationError extends Error {
  override name = 'RotationError';
}

export const NEW_KEY_LENGTH = 64;
const DAY_MS = 86_400_000;

export interface RotationOptions {
  /** A previous key retired longer ago than this is dropped. */
  keepPreviousMs: number;
  now?: () => number;
  /** One line per step (ids and stages only, never a value). */
  log?: (message: string, data: Record<string, unknown>) => void;
}

/** Previous keys are kept while a token they signed may be valid: a refresh token's life (the API's setting, same default) and a day. */
export function readRotationConfig(env: Env = process.env): { keepPreviousMs: number } {
  return { keepPreviousMs: (intSetting(env, 'REGISTRY_REFRESH_TOKEN_DAYS', 30, 1, 365) + 1) * DAY_MS };
}

interface StoredKey {
  kid: string;
  key: string;
  retiredAt?: string;
}

/** `kid` with its trailing number raised (t1 -> t2; a kid without one gets 2), past every kid in use. */
export function nextKid(kid: string, used: ReadonlySet<string>): string {
  const m = /^(.*?)(\d+)$/.exec(kid);
  const base = m ? m[1]! : kid;
  let n = m ? Number(m[2]) + 1 : 2;
  while (used.has(`${base}${n}`)) n++;
  return `${base}${n}`;
}

/** The secret's value after a rotation to `newKey` at `now`. Throws on a current value that is not a valid keys secret. */
export function rotatedValue(currentJson: string, newKey: string, now: number, keepPreviousMs: number): { kid: string; key: string; previous: StoredKey[] } {
  const keys = parseSigningKeys(currentJson).upload;
  const raw = JSON.parse(currentJson) as { previous?: { retiredAt?: unknown }[] };
  const stamp = new Date(now).toISOString();
  // An entry without a readable retiredAt (one put by hand) counts as retired now: kept one more period.
  const retired = (i: number): string => {
    const at = raw.previous?.[i]?.retiredAt;
    return typeof at === 'string' && !Number.isNaN(Date.parse(at)) ? at : stamp;
  };
  const [current, ...older] = keys;
  const previous: StoredKey[] = [
    { kid: current!.id, key: String(current!.secret), retiredAt: stamp },
    ...older.map((k, i) => ({ kid: k.id, key: String(k.secret), retiredAt: retired(i) })),
  ].filter((k) => now - Date.parse(k.retiredAt) <= keepPreviousMs);
  return { kid: nextKid(current!.id, new Set(keys.map((k) => k.id))), key: newKey, previous };
}

function parseEvent(event: RotationEvent): { step: RotationStep; secretId: string; token: string } {
  const { Step: step, SecretId: secretId, ClientRequestToken: token } = event;
  if (!ROTATION_STEPS.includes(step as RotationStep)) throw new RotationError(`unknown rotation step ${JSON.stringify(step)}`);
  if (typeof secretId !== 'string' || secretId === '' || typeof token !== 'string' || token === '') throw new RotationError('SecretId and ClientRequestToken must be non-empty strings');
  return { step: step as RotationStep, secretId, token };
}

const isNotFound = (e: unknown): boolean => (e as { name?: unknown } | null)?.name === 'ResourceNotFoundException';

async function secretString(client: SecretsManagerClient, secretId: string, version: { VersionId?: string; VersionStage: string }): Promise<string> {
  const out = await client.send(new GetSecretValueCommand({ SecretId: secretId, ...version }));
  if (out.SecretString === undefined) throw new RotationError(`the ${version.VersionStage} version of the secret has no string value`);
  return out.SecretString;
}

async function createSecret(client: SecretsManagerClient, secretId: string, token: string, opts: RotationOptions): Promise<string> {
  const current = await secretString(client, secretId, { VersionStage: 'AWSCURRENT' });
  try {
    await client.send(new GetSecretValueCommand({ SecretId: secretId, VersionId: token, VersionStage: 'AWSPENDING' }));
    return 'pending version already there';
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
  const { RandomPassword: key } = await client.send(new GetRandomPasswordCommand({ PasswordLength: NEW_KEY_LENGTH, ExcludePunctuation: true }));
  if (!key) throw new RotationError('GetRandomPassword returned no password');
  const value = rotatedValue(current, key, (opts.now ?? Date.now)(), opts.keepPreviousMs);
  await client.send(new PutSecretValueCommand({ SecretId: secretId, ClientRequestToken: token, SecretString: JSON.stringify(value), VersionStages: ['AWSPENDING'] }));
  return `new key ${value.kid} pending, ${value.previous.length} previous kept`;
}

async function testSecret(client: SecretsManagerClient, secretId: string, token: string): Promise<string> {
  const pending = parseSigningKeys(await secretString(client, secretId, { VersionId: token, VersionStage: 'AWSPENDING' })).upload;
  const current = parseSigningKeys(await secretString(client, secretId, { VersionStage: 'AWSCURRENT' })).upload[0]!;
  if (!pending.some((k) => k.secret === current.secret)) throw new RotationError('the pending version drops the current key: tokens it signed would stop verifying');
  const tokens = new TokenService(tokenKeysFrom(pending.map((k) => Buffer.from(k.secret))), { issuer: 'rotation-test', service: 'rotation-test', refreshTokenSeconds: 60 });
  await tokens.verifyAccess(await tokens.issueAccess('rotation-test', []));
  return `pending key ${pending[0]!.id} signs and verifies`;
}

async function finishSecret(client: SecretsManagerClient, secretId: string, token: string, stages: Record<string, string[]>): Promise<string> {
  const current = Object.entries(stages).find(([, s]) => s.includes('AWSCURRENT'))?.[0];
  await client.send(new UpdateSecretVersionStageCommand({ SecretId: secretId, VersionStage: 'AWSCURRENT', MoveToVersionId: token, ...(current ? { RemoveFromVersionId: current } : {}) }));
  return `AWSCURRENT moved from ${current ?? 'no version'}`;
}

/** Runs one step of a rotation of the secret the event names. */
export async function rotateTokenKeys(client: SecretsManagerClient, event: RotationEvent, opts: RotationOptions): Promise<void> {
  const { step, secretId, token } = parseEvent(event);
  const log = opts.log ?? (() => undefined);
  const meta = await client.send(new DescribeSecretCommand({ SecretId: secretId }));
  if (!meta.RotationEnabled) throw new RotationError(`rotation is not enabled on secret ${secretId}`);
  const stages = meta.VersionIdsToStages ?? {};
  const ofToken = stages[token];
  if (!ofToken) throw new RotationError(`secret ${secretId} has no version ${token} to rotate to`);
  if (ofToken.includes('AWSCURRENT')) {
    log('rotation step skipped: the version is already AWSCURRENT', { step, secretId, version: token });
    return;
  }
  if (!ofToken.includes('AWSPENDING')) throw new RotationError(`version ${token} of secret ${secretId} is not staged AWSPENDING`);
  let outcome: string;
  switch (step) {
    case 'createSecret':
      outcome = await createSecret(client, secretId, token, opts);
      break;
    case 'setSecret':
      outcome = 'nothing to set: the registry reads the secret itself';
      break;
    case 'testSecret':
      outcome = await testSecret(client, secretId, token);
      break;
    case 'finishSecret':
      outcome = await finishSecret(client, secretId, token, stages);
      break;
  }
  log('rotation step done', { step, secretId, version: token, outcome });
}
