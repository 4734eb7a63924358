// One structured JSON line per event on stdout.
export type LogFields = Record<string, string | number | boolean | undefined>;

export function log(level: 'info' | 'warn' | 'error', msg: string, fields: LogFields = {}): void {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields })}\n`);
}
