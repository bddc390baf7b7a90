// Checks of the arguments a workload passes to the API (api.ts) and of its definition
// (define.ts): a wrong type or shape is a TypeError thrown at the call, so its stack names the
// workload's line. A value of the right type that the kernel refuses is left to the kernel (an
// errno result).

const GeneratorFunction = Object.getPrototypeOf(function* () {})
  .constructor as GeneratorFunctionConstructor;

/** `function* () {}` or `*method() {}` (not an async generator, not a plain function). */
export const isGeneratorFunction = (f: unknown): boolean =>
  typeof f === 'function' && Object.getPrototypeOf(f) === GeneratorFunction.prototype;

/** `${what}: got <v>`, with a string quoted. */
export function argError(what: string, v: unknown): TypeError {
  const shown = typeof v === 'string' ? `'${v}'` : Array.isArray(v) ? 'an array' : String(v);
  return new TypeError(`${what}: got ${shown}`);
}

export function expectString(v: unknown, what: string): string {
  if (typeof v !== 'string') throw argError(what, v);
  return v;
}

/** An id, handle, pid or uid: an integer from 0 to 2^32 - 1, as the kernel's u32/pid_t hold. */
export function expectId(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffff_ffff)
    throw argError(what, v);
  return v;
}

export function expectArray(v: unknown, what: string): readonly unknown[] {
  if (!Array.isArray(v)) throw argError(what, v);
  return v;
}

export function expectFunction<F>(v: F, what: string): F {
  if (typeof v !== 'function') throw argError(what, v);
  return v;
}

/** What an option holds: 'size' and 'duration' are a number or a string with a unit. */
type OptionKind = 'boolean' | 'number' | 'string' | 'size' | 'duration';
const OPTION_TYPES: Record<OptionKind, readonly string[]> = {
  boolean: ['boolean'],
  number: ['number'],
  string: ['string'],
  size: ['number', 'string'],
  duration: ['number', 'string'],
};
const A: Record<OptionKind, string> = {
  boolean: 'a boolean',
  number: 'a number',
  string: 'a string',
  size: "a size such as '4MiB'",
  duration: "a duration such as '10ms'",
};

/**
 * An options object (undefined: none): a plain object whose keys are all in `kinds`, each
 * undefined or of its kind. A misspelt option is an error, not silently ignored.
 */
export function expectOptions<T extends object>(
  v: T | undefined,
  method: string,
  kinds: { readonly [K in keyof T]-?: OptionKind },
): T {
  if (v === undefined) return {} as T;
  const proto = typeof v === 'object' && v !== null ? Object.getPrototypeOf(v) : undefined;
  if (proto !== Object.prototype && proto !== null) {
    throw argError(`${method} expects an options object { ${Object.keys(kinds).join(', ')} }`, v);
  }
  const known = kinds as Record<string, OptionKind>;
  for (const [key, value] of Object.entries(v)) {
    const kind = Object.hasOwn(known, key) ? known[key] : undefined;
    if (kind === undefined) {
      throw new TypeError(
        `${method}: unknown option '${key}' (options: ${Object.keys(kinds).join(', ')})`,
      );
    }
    if (value !== undefined && !OPTION_TYPES[kind].includes(typeof value))
      throw argError(`${method}: option ${key} must be ${A[kind]}`, value);
  }
  return v;
}
