// Why a server could not listen on host:port, as a one-line ConfigError the person starting it can act on.
import { ConfigError } from '../config/config-error.ts';

const codeOf = (e: unknown): string | undefined => (e as NodeJS.ErrnoException | null)?.code;

/** Why listening on host:port failed, as a one-line ConfigError; undefined for a failure that is not the setting's. */
export function listenError(e: unknown, host: string, port: number): ConfigError | undefined {
  switch (codeOf(e)) {
    case 'EADDRINUSE':
      return new ConfigError(`port ${port} on ${host} is in use: stop what is listening there or set PORT to a free port`);
    case 'EACCES':
    case 'EPERM':
      return new ConfigError(`no permission to listen on port ${port} (ports below 1024 need privileges): set PORT to 1024 or above`);
    case 'EADDRNOTAVAIL':
      return new ConfigError(`HOST ${host} is not an address of this machine: set HOST to one of its addresses, 127.0.0.1 or 0.0.0.0`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
      return new ConfigError(`HOST ${host} does not resolve to an address: set HOST to an IP address such as 127.0.0.1 or 0.0.0.0`);
    default:
      return undefined;
  }
}
