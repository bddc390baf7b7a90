// The error a command throws for a usage problem found before running: one line on stderr, exit 2.
export class UsageError extends Error {}
