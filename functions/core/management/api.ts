// The management API (/api/v1/): every endpoint, as one core Operation for the route table.
import type { Operation } from '../context.ts';
import { browseEndpoints } from './browse.ts';
import { memberEndpoints } from './members.ts';
import { policyEndpoints } from './policy.ts';
import { projectEndpoints } from './projects.ts';
import { robotEndpointList } from './robots.ts';
import { managementOperation, type Endpoint } from './router.ts';
import { userEndpoints } from './users.ts';

export const MANAGEMENT_ENDPOINTS: readonly Endpoint[] = [...userEndpoints, ...projectEndpoints, ...policyEndpoints, ...memberEndpoints, ...robotEndpointList, ...browseEndpoints];

export const managementApi: Operation = managementOperation(MANAGEMENT_ENDPOINTS);
