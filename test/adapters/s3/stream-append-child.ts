// Child process for the bounded-memory test: streams TOTAL_BYTES through S3BlobStore.appendUpload as
// one request (as the ingest service takes one whole-layer PATCH), finishes the upload, and prints one
// JSON line with its own RSS and timings. Run apart from s3rver so the RSS is the store's alone.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { makeS3Client } from '../../../functions/adapters/s3/s3-client.ts';
import { S3BlobStore } from '../../../functions/adapters/s3/s3-blob-store.ts';
import { parseState } from '../../../functions/adapters/s3/upload-state.ts';
import { S3Strictness } from '../../support/s3-strict.ts';

const MiB = 1024 * 1024;
const CHUNK = 64 * 1024;
const total = Number(process.env.TOTAL_BYTES);
const client = makeS3Client({
  region: 'us-east-1',
  endpoint: process.env.S3_ENDPOINT as string,
  forcePathStyle: true,
  credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
});
const strict = new S3Strictness();
strict.install(client);
const store = new S3BlobStore({
  client,
  bucket: process.env.S3_BUCKET as string,
  ...(process.env.MAX_IN_FLIGHT_MIB ? { maxInFlightBytes: Number(process.env.MAX_IN_FLIGHT_MIB) * MiB } : {}),
});

const check = createHash('sha256');
const pool = randomBytes(MiB + CHUNK);
async function* body(): AsyncGenerator<Uint8Array> {
  for (let sent = 0, i = 0; sent < total; sent += CHUNK, i++) {
    const at = (i * 4099) % MiB;
    const chunk = Buffer.from(pool.subarray(at, at + Math.min(CHUNK, total - sent))); // a fresh buffer, as a socket gives
    chunk.writeUInt32BE(i, 0);
    check.update(chunk);
    yield chunk;
  }
}

const id = randomUUID();
const state = await store.startUpload(id);
const baseline = process.memoryUsage().rss;
let peak = baseline;
const sampler = setInterval(() => {
  peak = Math.max(peak, process.memoryUsage().rss);
}, 10);
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const up = await store.appendUpload(id, 0, state, body(), total);
const appendSeconds = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
const appendCpuSeconds = (cpu.user + cpu.system) / 1e6;
const digest = `sha256:${check.digest('hex')}`;
const t1 = performance.now();
const { location } = await store.finishUpload(id, up.offset, up.state, digest);
const finishSeconds = (performance.now() - t1) / 1000;
clearInterval(sampler);
peak = Math.max(peak, process.memoryUsage().rss);
const parts = strict.calls.filter((c) => c.command === 'UploadPart').map((c) => c.size ?? -1);
console.log(
  JSON.stringify({ digest, location, baseline, peak, appendSeconds, appendCpuSeconds, finishSeconds, stateChars: up.state.length, partCount: parseState(up.state).parts.length, parts, counts: strict.counts() }),
);
client.destroy();
