import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bytesToPages,
  formatDuration,
  formatSize,
  PAGE_SHIFT,
  PAGE_SIZE,
  parseDuration,
  parseSize,
  UnitError,
} from '../../src/sim/units.js';

const SIZE_HINT =
  "expected a non-negative number with a unit (B, KiB, MiB, GiB, TiB), e.g. '256MiB'";
const DURATION_HINT =
  "expected a non-negative number with a unit (ns, us, ms, s, min, h), e.g. '100ms'";

function errorOf(f: () => unknown): UnitError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(UnitError);
    return e as UnitError;
  }
  throw new Error('expected a UnitError');
}

describe('parseSize', () => {
  it.each([
    ['256MiB', 268435456],
    ['4GiB', 4294967296],
    ['1.5KiB', 1536],
    ['0B', 0],
    ['4096B', 4096],
    ['1TiB', 1099511627776],
    ['64 MiB', 67108864],
    ['0.25MiB', 262144],
    ['2.000KiB', 2048],
    ['64M', 67108864],
    ['64m', 67108864],
    ['1K', 1024],
    ['2G', 2147483648],
    ['1t', 1099511627776],
  ])('%s → %d', (input, bytes) => {
    expect(parseSize(input)).toBe(bytes);
  });

  it('accepts byte counts', () => {
    expect(parseSize(0)).toBe(0);
    expect(parseSize(4096)).toBe(4096);
    expect(parseSize(Number.MAX_SAFE_INTEGER)).toBe(Number.MAX_SAFE_INTEGER);
  });

  it.each([
    ['12 MiBs', `invalid size '12 MiBs': ${SIZE_HINT}`],
    ['', `invalid size '': ${SIZE_HINT}`],
    ['5 parsecs', `invalid size '5 parsecs': ${SIZE_HINT}`],
    ['4096', `invalid size '4096': ${SIZE_HINT}`],
    ['-1MiB', `invalid size '-1MiB': ${SIZE_HINT}`],
    ['1  MiB', `invalid size '1  MiB': ${SIZE_HINT}`],
    [' 1MiB', `invalid size ' 1MiB': ${SIZE_HINT}`],
    ['.5MiB', `invalid size '.5MiB': ${SIZE_HINT}`],
    ['1e3B', `invalid size '1e3B': ${SIZE_HINT}`],
    ['1mib', `invalid size '1mib': ${SIZE_HINT}`],
    ['1KB', `invalid size '1KB': ${SIZE_HINT}`],
    ['1.3B', "invalid size '1.3B': not a whole number of bytes"],
    ['0.1KiB', "invalid size '0.1KiB': not a whole number of bytes"],
    ['8192TiB', "invalid size '8192TiB': larger than 9007199254740991 bytes"],
  ])('rejects string %j', (input, message) => {
    expect(errorOf(() => parseSize(input)).message).toBe(message);
  });

  it.each([
    [-1, 'invalid size -1: expected a non-negative integer number of bytes'],
    [Number.NaN, 'invalid size NaN: expected a non-negative integer number of bytes'],
    [Infinity, 'invalid size Infinity: expected a non-negative integer number of bytes'],
    [1.5, 'invalid size 1.5: expected a non-negative integer number of bytes'],
    [2 ** 53, 'invalid size 9007199254740992: expected a non-negative integer number of bytes'],
  ])('rejects number %d', (input, message) => {
    expect(errorOf(() => parseSize(input)).message).toBe(message);
  });

  it('names the quantity in the message', () => {
    const e = errorOf(() => parseSize('12 MiBs', 'memory size'));
    expect(e.name).toBe('UnitError');
    expect(e.message).toBe(`invalid memory size '12 MiBs': ${SIZE_HINT}`);
    expect(errorOf(() => parseSize(-1, 'CMA size')).message).toBe(
      'invalid CMA size -1: expected a non-negative integer number of bytes',
    );
  });
});

describe('parseDuration', () => {
  it.each([
    ['100ms', 100000000],
    ['60s', 60000000000],
    ['2min', 120000000000],
    ['2m', 120000000000],
    ['1h', 3600000000000],
    ['250ns', 250],
    ['3us', 3000],
    ['3µs', 3000],
    ['3μs', 3000],
    ['1.5ms', 1500000],
    ['1.1ms', 1100000],
    ['0.5 s', 500000000],
    ['0s', 0],
  ])('%s → %d', (input, ns) => {
    expect(parseDuration(input)).toBe(ns);
  });

  it('accepts nanosecond counts', () => {
    expect(parseDuration(0)).toBe(0);
    expect(parseDuration(1500)).toBe(1500);
  });

  it.each([
    ['', `invalid duration '': ${DURATION_HINT}`],
    ['5 parsecs', `invalid duration '5 parsecs': ${DURATION_HINT}`],
    ['100', `invalid duration '100': ${DURATION_HINT}`],
    ['10 sec', `invalid duration '10 sec': ${DURATION_HINT}`],
    ['1MS', `invalid duration '1MS': ${DURATION_HINT}`],
    ['1.5ns', "invalid duration '1.5ns': not a whole number of nanoseconds"],
    ['0.0001us', "invalid duration '0.0001us': not a whole number of nanoseconds"],
    ['3000h', "invalid duration '3000h': larger than 9007199254740991 nanoseconds"],
  ])('rejects string %j', (input, message) => {
    expect(errorOf(() => parseDuration(input)).message).toBe(message);
  });

  it.each([
    [-1, 'invalid duration -1: expected a non-negative integer number of nanoseconds'],
    [Number.NaN, 'invalid duration NaN: expected a non-negative integer number of nanoseconds'],
    [
      -Infinity,
      'invalid duration -Infinity: expected a non-negative integer number of nanoseconds',
    ],
    [0.5, 'invalid duration 0.5: expected a non-negative integer number of nanoseconds'],
  ])('rejects number %d', (input, message) => {
    expect(errorOf(() => parseDuration(input)).message).toBe(message);
  });

  it('names the quantity in the message', () => {
    expect(errorOf(() => parseDuration('soon', 'timeout')).message).toBe(
      `invalid timeout 'soon': ${DURATION_HINT}`,
    );
  });
});

describe('formatSize', () => {
  it.each([
    [0, '0B'],
    [1000, '1000B'],
    [1023, '1023B'],
    [1024, '1KiB'],
    [1536, '1.5KiB'],
    [1152, '1.125KiB'],
    [1100, '1100B'],
    [4096, '4KiB'],
    [268435456, '256MiB'],
    [268435456 + 4096, '262148KiB'],
    [3 * 2 ** 29, '1.5GiB'],
    [2 ** 40, '1TiB'],
    [-1536, '-1.5KiB'],
  ])('%d → %s', (bytes, text) => {
    expect(formatSize(bytes)).toBe(text);
  });

  it('round-trips through parseSize', () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), (n) => parseSize(formatSize(n)) === n),
      { numRuns: 2000 },
    );
    fc.assert(fc.property(fc.nat(1 << 20), (k) => parseSize(formatSize(k * 128)) === k * 128));
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [1, '1ns'],
    [999, '999ns'],
    [1000, '1us'],
    [1500, '1.5us'],
    [999600, '999.6us'],
    [1500000, '1.5ms'],
    [1234567, '1.235ms'],
    [100000000, '100ms'],
    [999999600, '1s'],
    [1e9, '1s'],
    [60e9, '60s'],
    [3600e9, '3600s'],
    [-1500, '-1.5us'],
  ])('%d → %s', (ns, text) => {
    expect(formatDuration(ns)).toBe(text);
  });
});

describe('pages', () => {
  it('has 4 KiB pages', () => {
    expect(PAGE_SIZE).toBe(4096);
    expect(1 << PAGE_SHIFT).toBe(PAGE_SIZE);
  });

  it.each([
    [0, 0],
    [1, 1],
    [4096, 1],
    [4097, 2],
    [268435456, 65536],
    [2 ** 52 + 1, 2 ** 40 + 1],
  ])('bytesToPages(%d) = %d', (bytes, pages) => {
    expect(bytesToPages(bytes)).toBe(pages);
  });
});
