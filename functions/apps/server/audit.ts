// The audit trail of `npm start`: entries in audit.db in the data dir (adapters/sqlite/sqlite-audit.ts)
// and an `audit` (or `pull`) line each in the server's JSON log; a failed write is an
// `audit write failed` error line with the whole entry, never a failed request.
import { AuditRecorder, type AuditLog } from '../../core/audit.ts';
import { log } from '../../http/log.ts';

export function localAuditRecorder(store: AuditLog): AuditRecorder {
  return new AuditRecorder({ store, log: (level, msg, fields) => log(level, msg, fields) });
}
