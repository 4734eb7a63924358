// OCI distribution error codes (spec section "Error Codes") plus the ones outside the spec's table
// that distribution also uses (TAG_INVALID, RANGE_INVALID, PAGINATION_NUMBER_INVALID,
// UNAVAILABLE, UNKNOWN).

export const ErrorCodes = {
  BLOB_UNKNOWN: { status: 404, message: 'blob unknown to registry' },
  BLOB_UPLOAD_INVALID: { status: 400, message: 'blob upload invalid' },
  BLOB_UPLOAD_UNKNOWN: { status: 404, message: 'blob upload unknown to registry' },
  DIGEST_INVALID: { status: 400, message: 'provided digest did not match uploaded content' },
  MANIFEST_BLOB_UNKNOWN: { status: 404, message: 'manifest references a manifest or blob unknown to registry' },
  MANIFEST_INVALID: { status: 400, message: 'manifest invalid' },
  MANIFEST_UNKNOWN: { status: 404, message: 'manifest unknown to registry' },
  NAME_INVALID: { status: 400, message: 'invalid repository name' },
  NAME_UNKNOWN: { status: 404, message: 'repository name not known to registry' },
  SIZE_INVALID: { status: 400, message: 'provided length did not match content length' },
  TAG_INVALID: { status: 400, message: 'manifest tag did not match URI' },
  RANGE_INVALID: { status: 416, message: 'requested range not satisfiable' },
  PAGINATION_NUMBER_INVALID: { status: 400, message: 'invalid number of results requested' },
  UNAUTHORIZED: { status: 401, message: 'authentication required' },
  DENIED: { status: 403, message: 'requested access to the resource is denied' },
  UNSUPPORTED: { status: 405, message: 'the operation is unsupported' },
  TOOMANYREQUESTS: { status: 429, message: 'too many requests' },
  UNAVAILABLE: { status: 503, message: 'service unavailable' },
  UNKNOWN: { status: 500, message: 'internal server error' },
  // The management API's (/api/v1/, functions/core/management).
  INVALID_REQUEST: { status: 400, message: 'invalid request' },
  NOT_FOUND: { status: 404, message: 'not found' },
  CONFLICT: { status: 409, message: 'already exists' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ErrorCodes;

/** The OCI error body: `{ errors: [{ code, message, detail }] }`. Built here only. */
export interface OciErrorBody {
  errors: { code: string; message: string; detail: unknown }[];
}

export function ociErrorBody(code: string, message: string, detail: unknown = {}): OciErrorBody {
  return { errors: [{ code, message, detail }] };
}

export class RegistryError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly detail: unknown;
  readonly headers: Record<string, string>;

  constructor(code: ErrorCode, detail?: unknown, opts: { status?: number; message?: string; headers?: Record<string, string> } = {}) {
    super(opts.message ?? ErrorCodes[code].message);
    this.name = 'RegistryError';
    this.code = code;
    this.status = opts.status ?? ErrorCodes[code].status;
    this.detail = detail ?? {};
    this.headers = opts.headers ?? {};
  }

  toJSON(): OciErrorBody {
    return ociErrorBody(this.code, this.message, this.detail);
  }
}

export const isRegistryError = (e: unknown): e is RegistryError => e instanceof RegistryError;
