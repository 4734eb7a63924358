// CloudFront Function (cloudfront-js-2.0), viewer response, on the registry's /v2/* behaviour.
// S3 answers the edge fast path's PUT (see viewer-request.js) with 200; clients want 201 with Location
// and Docker-Content-Digest. A 200 to a PUT on an upload path can only come from S3 (the API answers
// 201/202/204), so that is the mark. The request is accepted in both forms CloudFront may hand over:
// as rewritten by the viewer-request function (/blobs/r/<repo>/sha256/<hex>) or as the viewer sent it
// (/v2/<repo>/blobs/uploads/<uuid>?...&digest=sha256:<hex>). CloudFront does not run this function
// on origin errors (>= 400): S3's own XML error then reaches the client. See docs/edge.md.

var KEY = /^\/blobs\/r\/(.+)\/sha256\/([a-f0-9]{64})$/;
var SESSION = /^\/v2\/(.+)\/blobs\/uploads\/[^/]+$/;
var SHA256 = /^sha256:([a-f0-9]{64})$/;

/** [repo, hex] of the blob the PUT wrote, or null. */
function written(req) {
  var m = KEY.exec(req.uri);
  if (m) return [m[1], m[2]];
  m = SESSION.exec(req.uri);
  var p = req.querystring && req.querystring.digest;
  if (!m || !p) return null;
  var d;
  try {
    d = SHA256.exec(decodeURIComponent(p.value));
  } catch (e) {
    return null;
  }
  return d ? [m[1], d[1]] : null;
}

async function handler(event) {
  var req = event.request;
  var res = event.response;
  if (req.method !== 'PUT' || res.statusCode !== 200) return res;
  var blob = written(req);
  if (!blob) return res;
  var digest = 'sha256:' + blob[1];
  for (var k in res.headers) if (k === 'etag' || k === 'server' || k.indexOf('x-amz-') === 0) delete res.headers[k];
  res.statusCode = 201;
  res.statusDescription = 'Created';
  res.headers['location'] = { value: '/v2/' + blob[0] + '/blobs/' + digest };
  res.headers['docker-content-digest'] = { value: digest };
  res.headers['docker-distribution-api-version'] = { value: 'registry/2.0' };
  return res;
}
