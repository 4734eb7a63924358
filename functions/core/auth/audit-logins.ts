// The token endpoint's audit entries (core/audit.ts): a login (password or robot secret), a token
// exchange (refresh token), a failed one of either. The entry names who, the grant and the scopes
// granted; never the password, the secret or a token.
import type { AuditRecorder } from '../audit.ts';
import type { RegistryRequest } from '../http.ts';
import type { Grant } from './grants.ts';

export interface TokenAudit {
  audit: AuditRecorder;
  req: RegistryRequest;
  action: 'login' | 'token.refresh';
}

const scopesOf = (access: readonly Grant[]): string => access.map((g) => `${g.type}:${g.name}:${g.actions.join(',')}`).join(' ');

export function auditToken(t: TokenAudit, actor: string, access: readonly Grant[]): Promise<void> {
  return t.audit.record({ action: t.action, actor, address: t.req.clientAddress ?? '', project: '', detail: { scope: scopesOf(access).slice(0, 1000) } });
}

/** `name`: the user or robot name tried (unknown for a refresh token); `grant`: basic, password, refresh_token. */
export async function auditFailedLogin(audit: AuditRecorder | undefined, req: RegistryRequest, name: string, grant: string): Promise<void> {
  await audit?.record({ action: 'login.failed', actor: name || 'unknown', address: req.clientAddress ?? '', project: '', detail: { grant: grant.slice(0, 32) } });
}
