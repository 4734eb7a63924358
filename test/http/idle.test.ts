// The idle-connection rule of the local server (functions/http/idle.ts): a connection on which nothing
// moved for the idle timeout is closed when the client is the slow side, kept when the server is.
// (test/apps/server/server-races-and-faults.test.ts checks it on live connections.)
import { describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { serverIsBusy, type Exchange } from '../../functions/http/idle.ts';

function exchange(queued: number, req: Partial<Exchange['req']>, res: Partial<Exchange['res']>): Exchange {
  return {
    socket: { writableLength: queued },
    req: { complete: false, readableLength: 0, ...req },
    res: { headersSent: false, writableFinished: false, ...res },
  };
}

describe('serverIsBusy', () => {
  it('output queued for the connection: the client stopped reading (close), whatever the latest exchange says', () => {
    assert.equal(serverIsBusy(exchange(65536, { complete: true }, { headersSent: true })), false);
    // A pipelined request answered behind a stalled response: its own state looks busy, the queue does not.
    assert.equal(serverIsBusy(exchange(1024, { complete: true }, {})), false);
  });

  it('an answered request with nothing queued: the connection is merely idle (close)', () => {
    assert.equal(serverIsBusy(exchange(0, { complete: true }, { headersSent: true, writableFinished: true })), false);
  });

  it('sending, with nothing queued: the server is producing the body (keep)', () => {
    assert.equal(serverIsBusy(exchange(0, { complete: true }, { headersSent: true })), true);
  });

  it('receiving, with every received byte already read: waiting on the client (close)', () => {
    assert.equal(serverIsBusy(exchange(0, { complete: false, readableLength: 0 }, {})), false);
  });

  it('receiving, with received bytes not read yet (the server hashing or writing): keep', () => {
    assert.equal(serverIsBusy(exchange(0, { complete: false, readableLength: 65536 }, {})), true);
  });

  it('the whole request in, no answer yet (a final fsync, a digest over a large upload): keep', () => {
    assert.equal(serverIsBusy(exchange(0, { complete: true }, {})), true);
  });
});
