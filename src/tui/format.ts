// Short, locale-independent numbers for narrow columns: same frame, same characters.
export { hex, seconds } from '../metrics/fmt.js';

const UNITS = ['K', 'M', 'G', 'T'] as const;

/** Bytes in at most 5 characters: '0', '512B', '8.0M', '64M', '1.5G'. */
export function bytes(n: number): string {
  if (!Number.isFinite(n)) return 'unlim';
  if (n === 0) return '0';
  if (n < 1024) return `${n}B`;
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  const digits = v < 10 ? v.toFixed(1) : String(Math.round(v));
  // 1023.6K rounds up to '1024K': say '1.0M' instead
  if (digits === '1024' && u < UNITS.length - 1) return `1.0${UNITS[u + 1]}`;
  return `${digits}${UNITS[u]}`;
}

/** Pages of 4 KiB as bytes(). */
export const pages = (n: number): string => bytes(n * 4096);

/** A speed as the status line shows it: '0.25×', '1×', '1000×', 'max'. */
export function speedLabel(speed: number, times = '×'): string {
  if (!Number.isFinite(speed)) return 'max';
  return `${String(speed)}${times}`;
}

/** A percentage with no decimals, '0%' to '100%' (or more). */
export const percent = (fraction: number): string => `${Math.round(fraction * 100)}%`;
