// A usage error: a bad option, argument or input file, found before anything runs. The command
// line prints its message on one line and exits 2 (README.md "Exit codes"); any other error that
// reaches it is a runtime error, exit 1. Here, outside cli/, so that every layer that checks what
// the user gave (cli/, compare/, metrics/, device/) may throw it.
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The value `parse` reads from an option; whatever it throws becomes a UsageError. */
export function optionValue<T>(parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    throw e instanceof UsageError ? e : new UsageError(e instanceof Error ? e.message : String(e));
  }
}
