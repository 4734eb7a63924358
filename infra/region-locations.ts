// Where each AWS region is, to the nearest city (latitude, longitude in degrees): the read-routing
// CloudFront Function sends a pull to the configured region nearest the viewer, by great-circle
// distance from CloudFront's CloudFront-Viewer-Latitude/-Longitude headers. A region missing here
// fails synth with its name, never a silent default.
import { ConfigError } from '../functions/config/config-error.ts';

const LOCATIONS: Readonly<Record<string, readonly [number, number]>> = {
  'us-east-1': [38.9, -77.4], // N. Virginia
  'us-east-2': [40.0, -83.0], // Ohio
  'us-west-1': [37.4, -121.9], // N. California
  'us-west-2': [45.8, -119.7], // Oregon
  'ca-central-1': [45.5, -73.6], // Montreal
  'ca-west-1': [51.0, -114.1], // Calgary
  'mx-central-1': [20.6, -100.4], // Querétaro
  'sa-east-1': [-23.5, -46.6], // São Paulo
  'eu-west-1': [53.3, -6.3], // Dublin
  'eu-west-2': [51.5, -0.1], // London
  'eu-west-3': [48.9, 2.4], // Paris
  'eu-central-1': [50.1, 8.7], // Frankfurt
  'eu-central-2': [47.4, 8.5], // Zurich
  'eu-north-1': [59.3, 18.1], // Stockholm
  'eu-south-1': [45.5, 9.2], // Milan
  'eu-south-2': [41.6, -0.9], // Aragón
  'il-central-1': [32.1, 34.8], // Tel Aviv
  'me-central-1': [25.2, 55.3], // UAE
  'me-south-1': [26.1, 50.6], // Bahrain
  'af-south-1': [-33.9, 18.4], // Cape Town
  'ap-south-1': [19.1, 72.9], // Mumbai
  'ap-south-2': [17.4, 78.5], // Hyderabad
  'ap-east-1': [22.3, 114.2], // Hong Kong
  'ap-east-2': [25.0, 121.5], // Taipei
  'ap-northeast-1': [35.7, 139.7], // Tokyo
  'ap-northeast-2': [37.6, 127.0], // Seoul
  'ap-northeast-3': [34.7, 135.5], // Osaka
  'ap-southeast-1': [1.3, 103.8], // Singapore
  'ap-southeast-2': [-33.9, 151.2], // Sydney
  'ap-southeast-3': [-6.2, 106.8], // Jakarta
  'ap-southeast-4': [-37.8, 145.0], // Melbourne
  'ap-southeast-5': [3.1, 101.7], // Kuala Lumpur
  'ap-southeast-6': [-36.8, 174.8], // Auckland
  'ap-southeast-7': [13.8, 100.5], // Bangkok
};

/** [region, latitude, longitude]. */
export function regionLocation(region: string): [string, number, number] {
  const at = LOCATIONS[region];
  if (!at) throw new ConfigError(`Invalid configuration: region ${region} has no known location (infra/region-locations.ts): add it to route pulls to the nearest region`);
  return [region, at[0], at[1]];
}

/** The region of `candidates` nearest `from` (great-circle distance). */
export function nearestRegion(from: string, candidates: readonly string[]): string | undefined {
  const [, lat, lon] = regionLocation(from);
  const r = Math.PI / 180;
  let best: string | undefined;
  let bestCos = -2;
  for (const c of candidates) {
    const [, clat, clon] = regionLocation(c);
    const cos = Math.sin(lat * r) * Math.sin(clat * r) + Math.cos(lat * r) * Math.cos(clat * r) * Math.cos((lon - clon) * r);
    if (cos > bestCos) {
      bestCos = cos;
      best = c;
    }
  }
  return best;
}
