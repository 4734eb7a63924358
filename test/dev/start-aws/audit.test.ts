// The audit trail in the AWS shape: start:aws with token auth, entries in the DynamoDB table (as the
// API Lambda writes them behind the front door, which sets CloudFront-Viewer-Address as CloudFront
// does): the contract every backend runs (test/contract/audit-trail.contract.ts), with a pull-count
// window of 1 s rather than a minute.
import { afterAll } from 'vitest';
import { startAwsLocal, type AwsLocal } from '../../../dev/start-aws/start.ts';
import { auditTrailContract } from '../../contract/audit-trail.contract.ts';

let local: AwsLocal | undefined;
afterAll(async () => {
  await local?.close();
});

auditTrailContract('start:aws (DynamoDB Local)', async () => {
  local = await startAwsLocal({ host: '127.0.0.1', port: 0, ingest: false, auth: true, auditPullFlushSeconds: 1 });
  return { url: local.url, identity: local.deps.identity, audit: local.deps.audit, pullWindowMs: 1000, settle: async () => undefined };
});
