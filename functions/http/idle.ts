// Whether a connection on which nothing has moved for the idle timeout is waiting on the client (a
// stalled client: close it) or on the server itself (hashing, fsync, a slow disk: keep it).

export interface Exchange {
  /** The connection: bytes still queued for it mean the client is not taking what was sent. */
  socket: { writableLength: number };
  /** The latest request on the connection and its response (a pipelined request replaces the one before). */
  req: { complete: boolean; readableLength: number };
  res: { headersSent: boolean; writableFinished: boolean };
}

export function serverIsBusy({ socket, req, res }: Exchange): boolean {
  // Output queued and nothing moved: the client stopped reading (whichever response it belongs to).
  if (socket.writableLength > 0) return false;
  // Answer sent: the connection merely sits idle between requests.
  if (res.writableFinished) return false;
  // Sending, with nothing queued: the server is producing the body (e.g. reading a slow disk).
  if (res.headersSent) return true;
  // Receiving: bytes the server has not read yet mean the server is the slow side.
  if (!req.complete) return req.readableLength > 0;
  // The whole request is in and the answer is not out yet: the server is working on it.
  return true;
}
