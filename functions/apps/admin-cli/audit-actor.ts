// Who the admin CLI's changes are recorded as: `cli:<os user>` from `<host>` (the CLI has no
// registry login; whoever runs it holds the data dir, or the AWS credentials, itself). The entries go
// to the store only: the CLI's stdout is its answer, so only a failed audit write is shown, on stderr.
import { hostname, userInfo } from 'node:os';
import { AuditRecorder, type AuditLog } from '../../core/audit.ts';
import type { AdminActor } from '../../core/auth/audited-admin.ts';

export function cliActor(): AdminActor {
  let user: string;
  try {
    user = userInfo().username;
  } catch {
    user = String(process.getuid?.() ?? 'unknown');
  }
  return { actor: `cli:${user}`, address: hostname() };
}

export function cliAuditRecorder(store: AuditLog): AuditRecorder {
  return new AuditRecorder({
    store,
    log: (level, msg, fields) => {
      if (level === 'error') process.stderr.write(`admin: ${msg}: ${JSON.stringify(fields)}\n`);
    },
  });
}
