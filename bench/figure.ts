// What a benchmark reports, and helpers shared by the bench modules.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Figure {
  name: string;
  value: number;
  unit: string;
  /** '<= 1.5', '>= 3', ... or 'info' for a figure with no target */
  target: string;
}

/** A bench module: run.ts lists them; each returns its figures once measured. */
export interface Bench {
  /** short name for `--only` */
  readonly id: string;
  readonly title: string;
  figures(): Promise<Figure[]>;
}

export type Status = 'PASS' | 'MISS' | 'info';

/** Compare a value with a target such as '<= 10'. */
export function status(f: Figure): Status {
  const m = /^\s*(<=|>=|<|>)\s*(-?[\d.]+)\s*$/.exec(f.target);
  if (!m) return 'info';
  const t = Number(m[2]);
  const ok = { '<=': f.value <= t, '>=': f.value >= t, '<': f.value < t, '>': f.value > t }[
    m[1] as '<=' | '>=' | '<' | '>'
  ];
  return ok ? 'PASS' : 'MISS';
}

/** Round to `digits` decimals for display and JSON. */
export const round = (x: number, digits: number): number => Number(x.toFixed(digits));

/** The repository root: the nearest directory above this file that holds package.json. */
export function repoRoot(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(d, 'package.json'))) {
    const up = dirname(d);
    if (up === d) throw new Error('bench: cannot find the repository root (package.json)');
    d = up;
  }
  return d;
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/** Progress and diagnostics go to stderr so that `--json` stdout stays clean. */
export const log = (msg: string): void => {
  process.stderr.write(`${msg}\n`);
};
