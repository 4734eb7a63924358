// The idle-connection rule of the local server (functions/local/idle.ts): a connection on which nothing
// moved for the idle timeout is closed when the client is the slow side, kept when the server is.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { serverIsBusy, type Exchange } from '../../functions/local/idle.ts';

function exchange(req: Partial<Exchange['req']>, res: Partial<Exchange['res']>): Exchange {
  return {
    req: { complete: false, readableLength: 0, ...req },
    res: { headersSent: false, writableFinished: false, writableNeedDrain: false, ...res },
  };
}

describe('serverIsBusy', () => {
  it('an answered request: the connection is merely idle (close it)', () => {
    assert.equal(serverIsBusy(exchange({ complete: true }, { headersSent: true, writableFinished: true })), false);
  });

  it('sending a body the client does not take: the client stalled (close)', () => {
    assert.equal(serverIsBusy(exchange({ complete: true }, { headersSent: true, writableNeedDrain: true })), false);
  });

  it('sending, with nothing queued for the client: the server is producing the body (keep)', () => {
    assert.equal(serverIsBusy(exchange({ complete: true }, { headersSent: true })), true);
  });

  it('receiving, with every received byte already read: waiting on the client (close)', () => {
    assert.equal(serverIsBusy(exchange({ complete: false, readableLength: 0 }, {})), false);
  });

  it('receiving, with received bytes not read yet (the server hashing or writing): keep', () => {
    assert.equal(serverIsBusy(exchange({ complete: false, readableLength: 65536 }, {})), true);
  });

  it('the whole request in, no answer yet (a final fsync, a digest over a large upload): keep', () => {
    assert.equal(serverIsBusy(exchange({ complete: true }, {})), true);
  });
});
