// The registry: one framework-free function from request to response, shared by every entry point.
import { NOT_SHARED, SHARED_CACHE_SECONDS, sharedCacheControl } from './shared-cache.ts';
import { defaultSettings, type RegistryDeps, type RegistrySettings } from './context.ts';
import { RegistryError } from './errors.ts';
import { requireName } from './grammar.ts';
import { API_VERSION_HEADERS, BodyReadError, header, jsonResponse, type RegistryRequest, type RegistryResponse } from './http.ts';
import { matchRoute } from './routes.ts';
import { auditRequest } from './audit-events.ts';
import { mirrorName, opensWrite, refuseProxyWrite } from './proxy/gate.ts';
import { StorageFullError, UploadConflictError, UploadGoneError } from './ports.ts';
import { QuotaExceededError } from './quota-ports.ts';
import { quotaDenied } from './quota.ts';

export type Registry = (req: RegistryRequest) => Promise<RegistryResponse>;

export interface RegistryOptions extends Omit<RegistryDeps, 'settings' | 'now'> {
  settings?: Partial<RegistrySettings>;
  now?: () => number;
  /**
   * Called with unexpected (non-OCI) errors before they become a response: a 500, or what
   * `classifyError` makes of them.
   */
  onError?: (error: unknown, req: RegistryRequest) => void;
  /**
   * Maps an unexpected error to an OCI error before the catch-all 500, e.g. a backend's throttling
   * to 429 TOOMANYREQUESTS. Entry points supply it (the core knows no backend's error shapes);
   * undefined leaves the error a 500.
   */
  classifyError?: (error: unknown) => RegistryError | undefined;
}


function errorResponse(req: RegistryRequest, error: RegistryError): RegistryResponse {
  const res = jsonResponse(error.status, error.toJSON(), error.headers);
  // HEAD: no body, but the Content-Length of the body a GET would have had (RFC 9110 §8.6).
  if (req.method === 'HEAD') delete res.body;
  res.errorCode = error.code;
  return res;
}

/** A path that is no endpoint of the API: 404 with UNSUPPORTED, the spec's code for what is not implemented. */
const noSuchEndpoint = (detail: unknown): RegistryError => new RegistryError('UNSUPPORTED', detail, { status: 404, message: 'no such endpoint' });

function decodePath(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    throw noSuchEndpoint({ reason: 'malformed percent-encoding in path' });
  }
}

export function createRegistry(options: RegistryOptions): Registry {
  const deps: RegistryDeps = {
    ...options,
    settings: { ...defaultSettings, ...options.settings },
    now: options.now ?? Date.now,
  };

  function classify(e: unknown): RegistryError | undefined {
    try {
      return options.classifyError?.(e);
    } catch {
      return undefined;
    }
  }

  async function dispatch(req: RegistryRequest): Promise<RegistryResponse> {
    const match = matchRoute(decodePath(req.path));
    if (!match) throw noSuchEndpoint({ path: req.path.slice(0, 300) });
    const op = match.route.methods[req.method];
    if (!op) {
      const allow = Object.keys(match.route.methods).join(', ');
      throw new RegistryError('UNSUPPORTED', { method: req.method, allow }, { headers: { allow } });
    }
    if (match.route.keys.includes('name')) {
      requireName(match.params.name);
      if (deps.proxy?.mirror) match.params.name = await mirrorName(deps.proxy, req.method, match.params.name);
    }
    if (op.public) return op.handle({ req, params: match.params, principal: { subject: 'anonymous' }, deps });
    const decision = await deps.authorizer.authorize(req, op.access(match.params));
    if (!decision.allowed) {
      const code = decision.status === 401 ? 'UNAUTHORIZED' : 'DENIED';
      // The challenge of GET /v2/ to a caller without credentials is everyone's: a shared cache may keep it.
      const headers: Record<string, string> = decision.challenge ? { 'www-authenticate': decision.challenge } : {};
      if (match.route.resource === 'base' && header(req, 'authorization') === undefined) headers['cache-control'] = `public, max-age=${SHARED_CACHE_SECONDS.challenge}`;
      throw new RegistryError(code, decision.detail, { headers });
    }
    if (deps.proxy && opensWrite(match.route.resource, req.method)) await refuseProxyWrite(deps.proxy, match.params.name);
    const res = await op.handle({ req, params: match.params, principal: decision.principal, deps });
    if (deps.audit) await auditRequest(deps.audit, match.route.resource, match.params, req, decision.principal, res);
    // Whether a shared cache (CloudFront) may keep this answer is the origin's call, made here.
    res.headers['cache-control'] = sharedCacheControl(decision.principal, op.cache?.(match.params), res, deps.settings.blobUrlTtlSeconds);
    return res;
  }

  return async (req) => {
    let res: RegistryResponse;
    try {
      res = await dispatch(req);
    } catch (e) {
      if (e instanceof RegistryError) res = errorResponse(req, e);
      else if (e instanceof UploadConflictError) res = errorResponse(req, new RegistryError('BLOB_UPLOAD_INVALID', { reason: e.message }, { status: 416 }));
      else if (e instanceof UploadGoneError) res = errorResponse(req, new RegistryError('BLOB_UPLOAD_UNKNOWN', { reason: e.message }));
      else if (e instanceof QuotaExceededError) res = errorResponse(req, quotaDenied(e));
      else if (e instanceof StorageFullError) {
        options.onError?.(e, req);
        res = errorResponse(req, new RegistryError('UNKNOWN', { reason: e.message }, { status: 507, message: 'insufficient storage' }));
      }
      else if (e instanceof BodyReadError) res = errorResponse(req, new RegistryError('BLOB_UPLOAD_INVALID', { reason: 'request body was cut short' }));
      else {
        options.onError?.(e, req);
        res = errorResponse(req, classify(e) ?? new RegistryError('UNKNOWN', {}));
      }
    }
    Object.assign(res.headers, API_VERSION_HEADERS);
    // Errors and the answers of public operations that said nothing: never kept by a shared cache.
    res.headers['cache-control'] ??= NOT_SHARED;
    return res;
  };
}

