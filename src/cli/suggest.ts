// Did-you-mean for the command line (issue #14 item 9): the closest of some names to what the user
// typed, when it is close enough to be a typo.

/** Levenshtein distance, with a transposition counted as one edit (Damerau, optimal string alignment). */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** The name closest to `typed`, if at most 2 edits (1 for names of 4 letters or fewer) away. */
export function closest(typed: string, names: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const n of names) {
    const dn = distance(typed, n);
    // a tie goes to the name the typo left out letters of ('sped': speed, not seed)
    if (dn < bestD || (dn === bestD && isSubsequence(typed, n))) [best, bestD] = [n, dn];
  }
  return best !== undefined && bestD > 0 && bestD <= (best.length <= 4 ? 1 : 2) ? best : undefined;
}

function isSubsequence(a: string, b: string): boolean {
  let i = 0;
  for (const ch of b) if (ch === a[i]) i++;
  return i === a.length;
}

/** The commands, for suggestions where the default command took a typo for a workload. */
export const COMMANDS = [
  'tui',
  'watch',
  'run',
  'check',
  'compare',
  'capture',
  'import',
  'list',
  'workloads',
  'completion',
];
