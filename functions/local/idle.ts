// Whether a connection on which nothing has moved for the idle timeout is waiting on the client (a
// stalled client: close it) or on the server itself (hashing, fsync, a slow disk: keep it).

export interface Exchange {
  req: { complete: boolean; readableLength: number };
  res: { headersSent: boolean; writableFinished: boolean; writableNeedDrain: boolean };
}

export function serverIsBusy({ req, res }: Exchange): boolean {
  // Answer sent: the connection merely sits idle between requests.
  if (res.writableFinished) return false;
  // Sending: the client is the slow side exactly when it does not take what was sent.
  if (res.headersSent) return !res.writableNeedDrain;
  // Receiving: bytes the server has not read yet mean the server is the slow side.
  if (!req.complete) return req.readableLength > 0;
  // The whole request is in and the answer is not out yet: the server is working on it.
  return true;
}
