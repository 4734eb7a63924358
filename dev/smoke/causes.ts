// The likely cause of a failed smoke path, from what was answered: the sentence an operator acts on.
export interface Answer {
  status: number;
  /** OCI error code, or the S3 error code of an XML body. */
  code?: string;
  /** The error's reason or message, when there is one. */
  reason?: string;
}

/** An OCI error body's code and reason, or an S3 XML error's code and message. */
export function parseError(body: Buffer): { code?: string; reason?: string } {
  const text = body.toString('utf8', 0, Math.min(body.length, 4096));
  const xml = /<Code>([^<]+)<\/Code>/.exec(text);
  if (xml) return { code: xml[1], ...(/<Message>([^<]+)<\/Message>/.exec(text) ? { reason: /<Message>([^<]+)<\/Message>/.exec(text)![1] } : {}) };
  try {
    const e = (JSON.parse(text) as { errors?: { code?: string; message?: string; detail?: { reason?: string } }[] }).errors?.[0];
    return e ? { ...(e.code ? { code: e.code } : {}), ...(e.detail?.reason ?? e.message ? { reason: e.detail?.reason ?? e.message } : {}) } : {};
  } catch {
    return {};
  }
}

export function likelyCause(path: string, a: Answer): string | undefined {
  if (path === 'edge PUT' && a.status === 403 && (a.code === 'SignatureDoesNotMatch' || a.code === 'AccessDenied')) {
    return `edge PUT refused by S3 with 403 ${a.code}: Origin Access Control did not sign the checksum header: set edgeUploads off`;
  }
  if (a.status === 400 && a.code === 'BadDigest') return 'S3 computed another SHA-256 than the digest: the bytes were changed on the way (a proxy rewriting bodies?)';
  if (a.status === 401) return a.code === 'UNAUTHORIZED' && /closed/.test(a.reason ?? '') ? 'the registry is closed: this environment has no authentication configured (see docs/auth.md)' : 'authentication failed or is missing: give --user (password in REGISTRY_PASSWORD or on stdin)';
  if (a.status === 403) return 'the credentials lack the rights for this: a role with push and delete on the smoke\'s project is needed';
  if (a.status === 500 && /storage access denied/.test(a.reason ?? '')) return 'a role lacks an IAM permission: the API\'s log line "permission denied" names the action';
  if (a.status === 502 || a.status === 504) return path === 'streamed PATCH' ? 'the ingest service did not answer: check its tasks and the ALB target health' : 'an origin did not answer: check the API (and ingest) in the primary region';
  if (a.status === 503) return 'the registry answered unavailable: its primary region may be down (pulls still work), or it is throttled';
  if (path === 'mount' && a.status === 202) return 'the mount was not done (202 instead of 201): the source repository was not readable with these credentials';
  if (path === 'ranged GET' && a.status === 200) return 'the blob URL ignored the Range header: the CDN or S3 in front does not serve ranges';
  return undefined;
}
