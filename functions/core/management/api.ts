// The management API (/api/v1/): every endpoint, as one core Operation for the route table.
import type { Operation } from '../context.ts';
import { accessTokenEndpoints } from './access-tokens.ts';
import { auditEndpoints } from './audit.ts';
import { browseEndpoints } from './browse.ts';
import { memberEndpoints } from './members.ts';
import { policyEndpoints } from './policy.ts';
import { quotaEndpoints } from './quota.ts';
import { projectEndpoints } from './projects.ts';
import { trustEndpoints } from './trust.ts';
import { robotEndpointList } from './robots.ts';
import { managementOperation, type Endpoint } from './router.ts';
import { userEndpoints } from './users.ts';

export const MANAGEMENT_ENDPOINTS: readonly Endpoint[] = [
  ...userEndpoints, ...accessTokenEndpoints, ...projectEndpoints, ...policyEndpoints, ...quotaEndpoints, ...memberEndpoints, ...robotEndpointList, ...trustEndpoints, ...auditEndpoints, ...browseEndpoints,
];

export const managementApi: Operation = managementOperation(MANAGEMENT_ENDPOINTS);
