// The policy presets `p` cycles through — the four positions of the 2023 LKML thread "tee: add
// FOLL_LONGTERM for CMA case when alloc shm" (kernel-model.md §5.4) — and the speed steps of `+` / `-`.
import type { Policies } from '../kernel/config.js';

export interface Preset {
  name: string;
  policies: Pick<Policies, 'teePin' | 'teeAccounting'>;
}

export const PRESETS: readonly Preset[] = [
  { name: 'upstream', policies: { teePin: 'upstream', teeAccounting: 'none' } },
  { name: 'v1-cma-ifdef', policies: { teePin: 'v1-cma-ifdef', teeAccounting: 'none' } },
  { name: 'v2-longterm', policies: { teePin: 'v2-longterm', teeAccounting: 'none' } },
  {
    name: 'v2-longterm+io_uring',
    policies: { teePin: 'v2-longterm', teeAccounting: 'io_uring' },
  },
];

/** The preset the kernel's policies match, or -1. */
export function presetIndex(k: Pick<Policies, 'teePin' | 'teeAccounting'> | undefined): number {
  if (!k) return -1;
  return PRESETS.findIndex(
    (p) => p.policies.teePin === k.teePin && p.policies.teeAccounting === k.teeAccounting,
  );
}

/** The preset after the current one (the first when the policies match none). */
export const nextPreset = (current: number): number => (current + 1) % PRESETS.length;

/** Simulated seconds per wall second; Infinity runs as fast as possible. */
export const SPEEDS: readonly number[] = [0.1, 0.25, 0.5, 1, 2, 5, 10, 100, 1000, Infinity];

/** The next speed step above `speed` (`dir` 1) or below it (`dir` -1); stays at the ends. */
export function stepSpeed(speed: number, dir: 1 | -1): number {
  if (dir > 0) return SPEEDS.find((s) => s > speed) ?? SPEEDS[SPEEDS.length - 1]!;
  return [...SPEEDS].reverse().find((s) => s < speed) ?? SPEEDS[0]!;
}
