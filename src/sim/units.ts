// Sizes (bytes) and durations (nanoseconds): parsing user input and formatting for display.

export class UnitError extends Error {
  override readonly name = 'UnitError';
}

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 4096;

/** Number of pages needed to hold `bytes` (rounds up, like PAGE_ALIGN). */
export function bytesToPages(bytes: number): number {
  return Math.ceil(bytes / PAGE_SIZE);
}

/** get_order(size): the smallest order whose 2^order pages hold `bytes`. */
export const getOrder = (bytes: number): number =>
  Math.max(0, Math.ceil(Math.log2(bytesToPages(bytes))));

const KiB = 1024n;
const SIZE_UNITS: ReadonlyMap<string, bigint> = new Map([
  ['B', 1n],
  ['KiB', KiB],
  ['MiB', KiB ** 2n],
  ['GiB', KiB ** 3n],
  ['TiB', KiB ** 4n],
  // memparse() suffixes, binary and case-insensitive as in the kernel.
  ...['K', 'M', 'G', 'T'].flatMap((l, i): [string, bigint][] => [
    [l, KiB ** BigInt(i + 1)],
    [l.toLowerCase(), KiB ** BigInt(i + 1)],
  ]),
]);

const US = 1000n;
const DURATION_UNITS: ReadonlyMap<string, bigint> = new Map([
  ['ns', 1n],
  ['us', US],
  ['µs', US], // U+00B5 MICRO SIGN
  ['μs', US], // U+03BC GREEK SMALL LETTER MU, which looks identical
  ['ms', US ** 2n],
  ['s', US ** 3n],
  ['m', 60n * US ** 3n],
  ['min', 60n * US ** 3n],
  ['h', 3600n * US ** 3n],
]);

const SIZE_HINT =
  "expected a non-negative number with a unit (B, KiB, MiB, GiB, TiB), e.g. '256MiB'";
const DURATION_HINT =
  "expected a non-negative number with a unit (ns, us, ms, s, min, h), e.g. '100ms'";

/** `<digits>[.<digits>][ ]<unit>`: at most one space between number and unit. */
const QUANTITY = /^(\d+)(?:\.(\d+))? ?(\S+)$/;

/**
 * Exact integer value of a `<number><unit>` string in base units. BigInt keeps it exact:
 * '1.1ms' is 1100000ns, whereas 1.1 * 1e6 in floating point is not an integer.
 */
function parseQuantity(
  v: string,
  units: ReadonlyMap<string, bigint>,
  what: string,
  hint: string,
  base: string,
): number {
  const m = QUANTITY.exec(v);
  const scale = m ? units.get(m[3]!) : undefined;
  if (!m || scale === undefined) throw new UnitError(`invalid ${what} '${v}': ${hint}`);
  const fraction = m[2] ?? '';
  const divisor = 10n ** BigInt(fraction.length);
  const scaled = BigInt(m[1]! + fraction) * scale;
  if (scaled % divisor !== 0n) {
    throw new UnitError(`invalid ${what} '${v}': not a whole number of ${base}`);
  }
  const n = scaled / divisor;
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new UnitError(`invalid ${what} '${v}': larger than ${Number.MAX_SAFE_INTEGER} ${base}`);
  }
  return Number(n);
}

function checkCount(v: number, what: string, base: string): number {
  if (Number.isSafeInteger(v) && v >= 0) return v;
  throw new UnitError(`invalid ${what} ${v}: expected a non-negative integer number of ${base}`);
}

/** Bytes from a byte count or a string such as '256MiB', '1.5KiB' or '64M'. */
export function parseSize(v: string | number, what = 'size'): number {
  if (typeof v === 'number') return checkCount(v, what, 'bytes');
  return parseQuantity(v, SIZE_UNITS, what, SIZE_HINT, 'bytes');
}

/** Nanoseconds from a nanosecond count or a string such as '100ms', '1.5us' or '2min'. */
export function parseDuration(v: string | number, what = 'duration'): number {
  if (typeof v === 'number') return checkCount(v, what, 'nanoseconds');
  return parseQuantity(v, DURATION_UNITS, what, DURATION_HINT, 'nanoseconds');
}

const FORMAT_SIZE_UNITS = [
  ['TiB', 2 ** 40],
  ['GiB', 2 ** 30],
  ['MiB', 2 ** 20],
  ['KiB', 2 ** 10],
] as const;

/**
 * The largest binary unit in which `bytes` is at least 1 and exact to at most three
 * decimals ('256MiB', '1.5KiB', '1.125KiB'); otherwise plain bytes ('1000B').
 * parseSize(formatSize(n)) === n for every safe integer n >= 0.
 */
export function formatSize(bytes: number): string {
  if (bytes < 0) return `-${formatSize(-bytes)}`;
  for (const [unit, size] of FORMAT_SIZE_UNITS) {
    // bytes / 2^k has at most 3 decimals iff bytes * 1000 = bytes * 8 * 125 is a multiple
    // of 2^k, i.e. iff bytes is a multiple of 2^k / 8.
    if (bytes >= size && bytes % (size / 8) === 0) return `${bytes / size}${unit}`;
  }
  return `${bytes}B`;
}

const FORMAT_DURATION_UNITS = [
  ['ns', 1],
  ['us', 1e3],
  ['ms', 1e6],
] as const;

/**
 * The smallest of ns/us/ms/s in which the value, rounded to three decimals, is below
 * 1000 (seconds are never promoted): 1500000 → '1.5ms', 60e9 → '60s', 0 → '0s'.
 */
export function formatDuration(ns: number): string {
  if (ns === 0) return '0s';
  if (ns < 0) return `-${formatDuration(-ns)}`;
  for (const [unit, size] of FORMAT_DURATION_UNITS) {
    const thousandths = Math.round((ns * 1000) / size);
    if (thousandths < 1_000_000) return `${thousandths / 1000}${unit}`;
  }
  return `${Math.round(ns / 1e6) / 1000}s`;
}

/**
 * The pages a byte range spans: [first page, count], rounddown(addr) to roundup(addr + len)
 * (as register_shm_helper, io_pin_pages and ib_umem_get compute it).
 */
export function pageSpan(addr: number, len: number): [number, number] {
  const start = Math.floor(addr / PAGE_SIZE);
  return [start, Math.ceil((addr + len) / PAGE_SIZE) - start];
}
