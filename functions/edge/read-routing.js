// CloudFront Function (cloudfront-js-2.0), viewer request, on the API behaviour (the default: every
// manifest, tag, referrer, catalog and blob request) and on the blob behaviour (/blobs/*: signed
// blob URLs). Writes go to the primary region's API, always: DynamoDB global tables are
// last-writer-wins across regions, so every write is made in one region. Reads (GET, HEAD) go to the
// region nearest the viewer (great-circle distance from CloudFront-Viewer-Latitude/-Longitude to each
// region), with failover to a second region: a replica falls back to the primary on a miss (its copy
// may lag: replication of items and objects is asynchronous) or an error; the primary falls back to
// the replica nearest it on an error. See docs/deploy.md, "Regions". The web interface's page, `/`,
// is not the registry's: a read of it goes to the interface's bucket as index.html (docs/ui.md; its
// assets, /ui/*, and /index.html have behaviours of their own). Only the runtime's modules.
import cf from 'cloudfront';

// Deploy-time settings: functions/edge/source.ts rewrites this one line. `regions`: [name, latitude,
// longitude] of every region, the primary first; `api` and `blobs`: the origin id of each region's
// API and bucket; `fallback`: the region the primary fails over to (none with one region); `ui`: the
// origin id of the web interface's bucket (none: `/` is the API's, which answers 404).
var CONFIG = { primary: 'us-east-1', fallback: '', regions: [['us-east-1', 38.9, -77.4]], api: { 'us-east-1': 'api' }, blobs: { 'us-east-1': 'blobs-us-east-1' }, ui: '' };

// What makes a read fail over. From a replica: a miss too (403 is S3's answer to a missing key
// when the reader may not list the bucket). From the primary: errors only; its miss is the truth.
var REPLICA_MISS = [403, 404, 500, 502, 503, 504];
var PRIMARY_ERROR = [500, 502, 503, 504];
var RADIANS = Math.PI / 180;

function coordinate(headers, name) {
  var h = headers[name];
  if (!h) return NaN;
  var v = Number(h.value);
  return h.value === '' ? NaN : v;
}

/** The configured region nearest the viewer; the primary when CloudFront gave no location. */
function nearest(headers) {
  var lat = coordinate(headers, 'cloudfront-viewer-latitude');
  var lon = coordinate(headers, 'cloudfront-viewer-longitude');
  if (!(lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180)) return CONFIG.primary;
  var best = CONFIG.primary;
  var bestCos = -2;
  for (var i = 0; i < CONFIG.regions.length; i++) {
    var r = CONFIG.regions[i];
    // The cosine of the central angle: the larger, the nearer (no need for the angle itself).
    var c = Math.sin(lat * RADIANS) * Math.sin(r[1] * RADIANS) + Math.cos(lat * RADIANS) * Math.cos(r[1] * RADIANS) * Math.cos((lon - r[2]) * RADIANS);
    if (c > bestCos) {
      bestCos = c;
      best = r[0];
    }
  }
  return best;
}

var BEARER_JWT = /^bearer\s+[A-Za-z0-9_-]+\.([A-Za-z0-9_-]+)\.[A-Za-z0-9_-]*$/i;

/**
 * Whether the request carries an anonymous registry token (its payload's sub is "anonymous": it
 * grants public pulls only). Read, not verified: dropping it can only make the request anonymous.
 */
function anonymousToken(headers) {
  var h = headers.authorization;
  var m = h ? BEARER_JWT.exec(h.value) : null;
  if (!m) return false;
  try {
    return JSON.parse(Buffer.from(m[1], 'base64url').toString()).sub === 'anonymous';
  } catch (e) {
    return false;
  }
}

/** A read of the page goes to the interface's bucket, with no credentials (the same cached copy for all). */
function toPage(req) {
  req.uri = '/index.html';
  req.querystring = {};
  for (var k in req.headers) if (k === 'authorization' || k.indexOf('x-amz-') === 0) delete req.headers[k];
  cf.selectRequestOriginById(CONFIG.ui);
  return req;
}

function handler(event) {
  var req = event.request;
  if (CONFIG.ui && req.uri === '/' && (req.method === 'GET' || req.method === 'HEAD')) return toPage(req);
  var origins = req.uri.indexOf('/blobs/') === 0 ? CONFIG.blobs : CONFIG.api;
  // An anonymous read goes on without its token, so that every anonymous puller shares one cached
  // answer (Authorization is part of the cache key); the origin serves public content without one.
  if ((req.method === 'GET' || req.method === 'HEAD') && anonymousToken(req.headers)) delete req.headers.authorization;
  // Which distribution this is, for the purge a DELETE makes (adapters/cloudfront); never the viewer's.
  req.headers['x-registry-distribution'] = { value: event.context.distributionId };
  // Its host name: the token realm of an environment without a domain (functions/aws/public-url.ts).
  req.headers['x-registry-host'] = { value: event.context.distributionDomainName };
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    cf.selectRequestOriginById(origins[CONFIG.primary]);
    return req;
  }
  var first = nearest(req.headers);
  var second = first === CONFIG.primary ? CONFIG.fallback : CONFIG.primary;
  if (!second) {
    cf.selectRequestOriginById(origins[first]);
    return req;
  }
  cf.createRequestOriginGroup({
    originIds: [{ originId: origins[first] }, { originId: origins[second] }],
    failoverCriteria: { statusCodes: first === CONFIG.primary ? PRIMARY_ERROR : REPLICA_MISS },
  });
  return req;
}
