// CloudFront Function (cloudfront-js-2.0), viewer request, on the registry's /v2/* behaviour.
// A monolithic blob PUT (Content-Length 1 B..5 GiB, sha256 digest, valid upload token) goes straight
// to the S3 origin as object blobs/r/<repo>/sha256/<hex>, with x-amz-checksum-sha256 set from the
// digest so that S3 itself refuses bytes that do not match. Every other request goes to the ingest
// service or the API by routeUpload below. See docs/edge.md. Only the runtime's modules; no network.
import cf from 'cloudfront';
import crypto from 'crypto';

// Deploy-time settings: functions/edge/source.ts rewrites this one line.
var CONFIG = { ingest: true, edgeUploads: true, s3Origin: 's3', ingestOrigin: 'ingest', apiOrigin: 'api' };

// BEGIN route-upload: the one routing rule; dev/front-door/route-upload.ts evaluates this block.
var MAX_API_BODY_BYTES = 4.5 * 1024 * 1024 - 64 * 1024;
var UPLOAD_SESSION = /^\/v2\/.+\/blobs\/uploads\/[^/]+$/;
var UPLOAD_START = /^\/v2\/.+\/blobs\/uploads\/?$/;
var DIGITS = /^[0-9]+$/;

function routeUpload(method, path, headers) {
  var m = method.toUpperCase();
  var session = (m === 'PATCH' || m === 'PUT') && UPLOAD_SESSION.test(path);
  var start = m === 'POST' && UPLOAD_START.test(path);
  if (!session && !start) return 'api';
  var transferEncoding = headers['transfer-encoding'];
  if (transferEncoding !== undefined && transferEncoding !== '') return 'ingest';
  var length = headers['content-length'];
  if (length === undefined || length === '') return session ? 'ingest' : 'api';
  if (!DIGITS.test(length)) return 'api';
  return Number(length) > MAX_API_BODY_BYTES ? 'ingest' : 'api';
}
// END route-upload

var MAX_PUT = 5368709120; // S3's largest single PUT: 5 GiB
var SESSION = /^\/v2\/(.+)\/blobs\/uploads\/([^/]+)$/;
var UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
var SHA256 = /^sha256:([a-f0-9]{64})$/;
// The repository name grammar (functions/core/grammar.ts): an invalid name goes to the API, whose
// NAME_INVALID answers it as on every other route.
var NAME = /^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$/;
var TOKEN = /^([A-Za-z0-9_-]{1,16})\.([A-Za-z0-9_-]*)\.([0-9]{1,12})\.([A-Za-z0-9_-]{43})$/;
var KEEP = { host: 1, 'content-length': 1, 'transfer-encoding': 1, via: 1, 'user-agent': 1 };
var kvs = cf.kvs();

/** The path percent-decoded, as the API reads it (malformed encoding: as sent). */
function decoded(uri) {
  try {
    return decodeURIComponent(uri);
  } catch (e) {
    return uri;
  }
}

function flat(headers) {
  var out = {};
  for (var k in headers) out[k] = headers[k].value;
  return out;
}

/** The single decoded value of a query parameter; undefined when absent, repeated or malformed. */
function single(qs, name) {
  var p = qs[name];
  if (!p || (p.multiValue && p.multiValue.length > 1)) return undefined;
  try {
    return decodeURIComponent(p.value);
  } catch (e) {
    return undefined;
  }
}

/** The first value, as the API reads `_state` (URLSearchParams.get). */
function first(qs, name) {
  var p = qs[name];
  if (!p) return undefined;
  var v = p.multiValue && p.multiValue.length > 0 ? p.multiValue[0].value : p.value;
  try {
    return decodeURIComponent(v);
  } catch (e) {
    return '';
  }
}

function refuse(status, code, message, detail, extra) {
  var body = JSON.stringify({ errors: [{ code: code, message: message, detail: detail }] });
  var headers = {
    'content-type': { value: 'application/json' },
    'docker-distribution-api-version': { value: 'registry/2.0' },
    'cache-control': { value: 'no-store' },
  };
  for (var k in extra) headers[k] = extra[k];
  return {
    statusCode: status,
    statusDescription: { 400: 'Bad Request', 404: 'Not Found', 413: 'Payload Too Large', 503: 'Service Unavailable' }[status],
    headers: headers,
    body: { encoding: 'text', data: body },
  };
}

function unknown(id, reason) {
  var detail = { session: id.slice(0, 100) };
  if (reason) detail.reason = reason;
  return refuse(404, 'BLOB_UPLOAD_UNKNOWN', 'blob upload unknown to registry', detail);
}

function equal(a, b) {
  if (a.length !== b.length) return false;
  var diff = 0;
  for (var i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/**
 * Checks the `_state` token as the API's loadSession does. Returns a refusal, 'ok', or 'route' when
 * the edge cannot judge (its key id is not in the KeyValueStore: the API, which holds every key,
 * decides).
 */
async function checkToken(qs, repo, id) {
  if (!UUID.test(id)) return unknown(id);
  var state = first(qs, '_state');
  if (state === undefined) return unknown(id, 'the upload URL has no _state token: use the Location the registry returned');
  var t = TOKEN.exec(state);
  if (!t) return refuse(400, 'BLOB_UPLOAD_INVALID', 'blob upload invalid', { reason: 'upload state token is not authentic' });
  var secret;
  try {
    secret = await kvs.get('upload-key-' + t[1]);
  } catch (e) {
    return 'route';
  }
  var body = t[1] + '.' + t[2] + '.' + t[3];
  var mac = crypto.createHmac('sha256', Buffer.from(secret, 'base64')).update(body).digest('base64url');
  if (!equal(mac, t[4])) return refuse(400, 'BLOB_UPLOAD_INVALID', 'blob upload invalid', { reason: 'upload state token is not authentic' });
  // repo|id|owner: the owner is the API's to check (the token was handed to it).
  if (Buffer.from(t[2], 'base64url').toString().indexOf(repo + '|' + id + '|') !== 0) return unknown(id);
  if (Number(t[3]) * 1000 < Date.now()) return unknown(id, 'the upload token has expired');
  return 'ok';
}

/** The sha256 hex of a PUT that may take the fast path, else undefined (routed as usual). */
function fastPathDigest(req, h) {
  if (h['transfer-encoding'] || h['content-range'] || req.querystring._partial) return undefined;
  var length = h['content-length'];
  if (!length || !DIGITS.test(length) || Number(length) < 1 || Number(length) > MAX_PUT) return undefined;
  var digest = single(req.querystring, 'digest');
  var m = digest === undefined ? null : SHA256.exec(digest);
  return m ? m[1] : undefined;
}

async function handler(event) {
  var req = event.request;
  var h = flat(req.headers);
  var s = req.method === 'PUT' ? SESSION.exec(decoded(req.uri)) : null;
  var name = /^\/v2\/(.+)\/blobs\/uploads(?:\/|$)/.exec(decoded(req.uri));
  if (name && (name[1].length > 255 || !NAME.test(name[1]))) {
    cf.selectRequestOriginById(CONFIG.apiOrigin);
    return req;
  }
  // With edgeUploads off (the deployment's switch), every PUT takes the routed path below.
  var hex = s && CONFIG.edgeUploads ? fastPathDigest(req, h) : undefined;
  if (hex !== undefined) {
    var verdict = await checkToken(req.querystring, s[1], s[2]);
    if (verdict === 'ok') {
      req.uri = '/blobs/r/' + s[1] + '/sha256/' + hex;
      req.querystring = {};
      req.cookies = {};
      // S3 sees only what we choose: no credentials, ACLs, conditions or a Content-Encoding it would
      // store and serve back with the blob (read-only headers stay, as CloudFront requires).
      for (var k in req.headers) if (!KEEP[k]) delete req.headers[k];
      req.headers['content-type'] = { value: 'application/octet-stream' };
      req.headers['x-amz-checksum-sha256'] = { value: Buffer.from(hex, 'hex').toString('base64') };
      // The session that wrote the object: recording the blob ends it (functions/core/blob-records.ts).
      req.headers['x-amz-meta-upload'] = { value: s[2] };
      cf.selectRequestOriginById(CONFIG.s3Origin);
      return req;
    }
    if (verdict !== 'route') return verdict;
    if (!CONFIG.ingest && routeUpload(req.method, req.uri, h) === 'ingest') {
      return refuse(503, 'UNAVAILABLE', 'service unavailable', { reason: 'the upload token key is not published at the edge yet; retry shortly' }, { 'retry-after': { value: '10' } });
    }
  }
  var dest = routeUpload(req.method, req.uri, h);
  if (dest === 'ingest' && !CONFIG.ingest) {
    return refuse(413, 'SIZE_INVALID', 'upload body too large for this deployment', {
      reason:
        'this registry takes a whole blob only as one PUT with Content-Length (at most 5 GiB) and ?digest=sha256:...; ' +
        'streamed (chunked) bodies and chunks over ' + MAX_API_BODY_BYTES + ' bytes are not accepted',
      maxChunkBytes: MAX_API_BODY_BYTES,
    });
  }
  // The distribution's host name: the token realm of an environment without a domain (functions/aws/public-url.ts).
  req.headers['x-registry-host'] = { value: event.context.distributionDomainName };
  cf.selectRequestOriginById(dest === 'ingest' ? CONFIG.ingestOrigin : CONFIG.apiOrigin);
  return req;
}
