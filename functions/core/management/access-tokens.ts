// A user's personal access tokens (docs/auth.md), for the user and for system administrators, as
// `npm run admin -- token create|list|revoke`. A created token is in that one answer and nowhere
// else (only its hash is kept); a revoked one stays listed, as revoked.
import { emptyResponse, jsonResponse } from '../http.ts';
import { createAccessToken, publicAccessToken, revokeAccessToken } from '../auth/access-tokens.ts';
import type { Endpoint, ManagementContext } from './router.ts';
import { listResponse, notFound, onlyFields, pageOf, pageParams, readJson, stringField } from './io.ts';
import { adminCall } from './admin-errors.ts';

async function existingUser({ store, path }: ManagementContext): Promise<string> {
  if (!(await store.getUser(path.user!))) throw notFound('user', path.user!);
  return path.user!;
}

export const accessTokenEndpoints: Endpoint[] = [
  {
    method: 'GET', path: '/users/{user}/tokens', access: 'user-self', summary: 'the user\'s personal access tokens (never the tokens themselves), a page at a time',
    async handle(ctx) {
      const page = pageParams(ctx.req);
      const tokens = (await ctx.store.listAccessTokens(await existingUser(ctx))).map(publicAccessToken);
      return listResponse(ctx.req, 'tokens', pageOf(tokens, (t) => t.name, page), page.n, (t) => t.name);
    },
  },
  {
    method: 'POST', path: '/users/{user}/tokens', access: 'user-self', summary: 'creates a personal access token: {name, expires?: 90d|12h|never}; the answer holds the token, once',
    async handle(ctx) {
      const body = await readJson(ctx.req);
      onlyFields(body, ['name', 'expires']);
      const name = stringField(body, 'name');
      const expires = stringField(body, 'expires', true);
      const user = await existingUser(ctx);
      const { token, text } = await adminCall(() => createAccessToken(ctx.store, user, name, expires, ctx.deps.now()));
      return jsonResponse(201, { ...publicAccessToken(token), token: text });
    },
  },
  {
    method: 'DELETE', path: '/users/{user}/tokens/{name}', access: 'user-self', summary: 'revokes a personal access token at once (kept, listed as revoked)',
    async handle(ctx) {
      const user = await existingUser(ctx);
      if (!(await ctx.store.getAccessToken(user, ctx.path.name!))) throw notFound('token', ctx.path.name!);
      await adminCall(() => revokeAccessToken(ctx.store, user, ctx.path.name!));
      return emptyResponse(204);
    },
  },
];
