// Robot accounts: a project's (its admins) and system robots (system administrators). A created or
// rotated robot's secret is in that one answer and nowhere else (only its hash is kept).
import { emptyResponse, jsonResponse, type RegistryResponse } from '../http.ts';
import { createRobot, parseActions, publicRobot, revokeRobot, rotateRobot, type NewRobot } from '../auth/admin.ts';
import { robotName } from '../auth/model.ts';
import type { Endpoint, ManagementContext } from './router.ts';
import { invalid, listResponse, notFound, onlyFields, pageOf, pageParams, readJson, stringField, stringListField } from './io.ts';
import { adminCall } from './admin-errors.ts';

const withSecret = ({ robot, secret }: NewRobot) => ({ ...publicRobot(robot), secret });

async function list(ctx: ManagementContext): Promise<RegistryResponse> {
  const page = pageParams(ctx.req);
  const robots = (await ctx.store.listRobots(ctx.project?.name)).map(publicRobot);
  return listResponse(ctx.req, 'robots', pageOf(robots, (r) => r.name, page), page.n, (r) => r.name);
}

async function create(ctx: ManagementContext): Promise<RegistryResponse> {
  const body = await readJson(ctx.req);
  onlyFields(body, ['name', 'actions', 'repositories', 'expires']);
  const name = stringField(body, 'name');
  const actionList = stringListField(body, 'actions');
  if (actionList === undefined) throw invalid('actions', 'is required: a list of pull, push, delete');
  const actions = await adminCall(async () => parseActions(actionList.join(',')));
  const repositories = stringListField(body, 'repositories');
  const expires = stringField(body, 'expires', true);
  const made = await adminCall(() => createRobot(ctx.store, ctx.project?.name, name, { actions, ...(repositories ? { repositories } : {}), ...(expires ? { expires } : {}) }, ctx.deps.now()));
  return jsonResponse(201, withSecret(made));
}

/** The full name of the robot the path names, if it exists (within the path's project, or a system robot). */
async function existing(ctx: ManagementContext): Promise<string> {
  let full: string;
  try {
    full = robotName(ctx.project?.name, ctx.path.robot!);
  } catch (e) {
    throw invalid('robot', (e as Error).message);
  }
  if (!(await ctx.store.getRobot(full))) throw notFound('robot', full);
  return full;
}

/** The same four endpoints under `base` (a project's, or the system's), with the access of that level. */
function robotEndpoints(base: string, access: 'project-admin' | 'system-admin', whose: string): Endpoint[] {
  return [
    { method: 'GET', path: base, access, summary: `${whose} robots (never their secrets), a page at a time`, handle: list },
    { method: 'POST', path: base, access, summary: `creates a robot: {name, actions: [pull, push, delete], repositories?, expires?: 90d|12h|never}; the answer holds its secret, once`, handle: create },
    {
      method: 'POST', path: `${base}/{robot}/rotate`, access, summary: 'a new secret (the old one stops working at the next token request), shown once',
      handle: async (ctx) => jsonResponse(200, withSecret(await rotateRobot(ctx.store, await existing(ctx)))),
    },
    {
      method: 'DELETE', path: `${base}/{robot}`, access, summary: 'revokes the robot (kept, listed as revoked)',
      handle: async (ctx) => {
        await revokeRobot(ctx.store, await existing(ctx));
        return emptyResponse(204);
      },
    },
  ];
}

export const robotEndpointList: Endpoint[] = [
  ...robotEndpoints('/projects/{project}/robots', 'project-admin', "the project's"),
  ...robotEndpoints('/robots', 'system-admin', 'system'),
];
