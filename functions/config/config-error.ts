// The one error for a setting that cannot work, in every process (the local server, the AWS
// runtime, the dev tools, the CDK app): its message is one line saying what is wrong and which
// setting to change, printed without a stack trace.

/** Exit status for a configuration error (sysexits' EX_CONFIG), so a supervisor can tell it from a crash. */
export const EXIT_CONFIG = 78;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}
