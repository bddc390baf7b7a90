// Fixed, locale-independent formatting shared by the exporters: same snapshot, same bytes.

const NS_PER_MS = 1_000_000;
const NS_PER_S = 1_000_000_000;

/** Simulated time as seconds with milliseconds, truncated like printk's: 5025678000 -> '5.025s'. */
export function seconds(ns: number): string {
  const ms = Math.floor(ns / NS_PER_MS);
  return `${Math.floor(ms / 1000)}.${String(ms % 1000).padStart(3, '0')}s`;
}

/** Simulated time in seconds as a number (Prometheus values). */
export const toSeconds = (ns: number): number => ns / NS_PER_S;

// biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters it escapes
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: the same, but the line feed
const CONTROL_BUT_LF = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/g;

/**
 * Text from the workload (names, keys, values, log lines) as a terminal may print it: every
 * control character (C0, DEL, C1: ESC, NUL, CR, CSI...) written as visible `\xHH`, so that the
 * terminal shows it and never obeys it. Line feeds too, unless `multiline`. Backslashes are left
 * alone: text without control characters comes out unchanged.
 */
export const visible = (text: string, multiline = false): string =>
  text.replace(
    multiline ? CONTROL_BUT_LF : CONTROL,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );

/** A page frame number as the kernel prints it: 0xe0000. */
export const hex = (n: number): string => `0x${n.toString(16)}`;

/** A byte count in the largest binary unit that divides it exactly: '8 MiB', '1536 KiB', '10 B'. */
export function size(bytes: number): string {
  if (!Number.isFinite(bytes)) return 'unlimited';
  for (const [unit, shift] of [
    ['GiB', 30],
    ['MiB', 20],
    ['KiB', 10],
  ] as const) {
    const u = 2 ** shift;
    if (bytes !== 0 && bytes % u === 0) return `${bytes / u} ${unit}`;
  }
  return `${bytes} B`;
}

/** 'camelCase' and 'CmaFree' to 'camel_case' and 'cma_free'; 'Active(anon)' to 'active_anon'. */
export function snakeCase(name: string): string {
  return name
    .replace(/\(([^)]*)\)/g, '_$1')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9_]/g, '_')
    .toLowerCase();
}

/**
 * Columns separated by two spaces, padded to the widest cell; `align` has one letter per column,
 * 'l' or 'r'. Trailing spaces are trimmed.
 */
export function table(
  align: string,
  header: readonly string[],
  rows: readonly (readonly string[])[],
): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    header
      .map((_, i) => {
        const c = cells[i] ?? '';
        return align[i] === 'r' ? c.padStart(widths[i]!) : c.padEnd(widths[i]!);
      })
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}
