// The token key rotation Lambda (keys stack, primary region): Secrets Manager invokes it once per
// rotation step of the token keys secret, every 30 days or on `aws secretsmanager rotate-secret`
// (docs/auth.md, "Token key rotation"). The steps are functions/aws/token-key-rotation.ts; a failed
// step throws (Secrets Manager retries the rotation; the Lambda's errors alarm).
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { readRotationConfig, rotateTokenKeys, type RotationEvent } from '../../aws/token-key-rotation.ts';

const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'registry-token-key-rotation' });
const client = new SecretsManagerClient({});
const config = readRotationConfig(process.env);

export const handler = middy<RotationEvent, void, Error, Context>((event: RotationEvent) => rotateTokenKeys(client, event, { ...config, log: (message, data) => logger.info(message, data) }))
  // The event holds ids only, but no event logging whatever POWERTOOLS_LOGGER_LOG_EVENT says.
  .use(injectLambdaContext(logger, { resetKeys: true, logEvent: false }));
