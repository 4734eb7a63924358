import { jsonResponse } from '../http.ts';
import type { Operation } from '../context.ts';

/** GET /v2/: the API version check. */
export const apiVersionCheck: Operation = {
  access: () => [],
  handle: async () => jsonResponse(200, {}),
};
