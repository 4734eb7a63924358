/** A command line the admin CLI cannot run (exit 64 with the command's usage). */
export class UsageError extends Error {}
