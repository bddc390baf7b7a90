// --fail-on conditions: `<name><op><value>` on the final snapshot, e.g. `cma_alloc_fail>0`,
// `cma.svp.alloc_pages_fail>=51200`, `results.playback_start==ENOMEM`.
import { UsageError } from '../usage-error.js';
import type { Snapshot } from './snapshot.js';

const OPS = ['>=', '<=', '==', '!=', '>', '<'] as const;
type Op = (typeof OPS)[number];

export interface Condition {
  text: string;
  path: string;
  op: Op;
  value: string;
}

export function parseCondition(text: string): Condition {
  // the value is a number or a word (ENOMEM, ok): never an operator character, so that a typo
  // such as `x>>0` is an error before the run rather than after it
  const m = /^\s*([A-Za-z_][\w.]*)\s*(>=|<=|==|!=|>|<)\s*([^\s<>=!]+)\s*$/.exec(text);
  if (!m) {
    throw new UsageError(
      `invalid --fail-on '${text}': expected <name><op><value> with op one of ${OPS.join(' ')}, e.g. cma_alloc_fail>0`,
    );
  }
  const op = m[2] as Op;
  const value = m[3]!;
  // > >= < <= compare numbers: a word, NaN or an overflow would blame the counter at the end
  if (!['==', '!='].includes(op) && !Number.isFinite(Number(value)))
    throw new UsageError(`invalid --fail-on '${text}': '${value}' is not a number`);
  return { text, path: m[1]!, op, value };
}

/** A dotted path into the snapshot; bare names are looked up in vmstat, meminfo, then results. */
function lookup(s: Snapshot, path: string): unknown {
  const roots: unknown[] = path.includes('.') ? [s] : [s.vmstat, s.meminfo, s.results, s];
  for (const root of roots) {
    let v: unknown = root;
    for (const part of path.split('.'))
      v =
        typeof v === 'object' && v !== null && Object.hasOwn(v, part)
          ? (v as Record<string, unknown>)[part]
          : undefined;
    if (v !== undefined) return v;
  }
  return undefined;
}

/** Whether the condition holds on `s`; an unknown name is an error. */
export function holds(c: Condition, s: Snapshot): boolean {
  const v = lookup(s, c.path);
  if (v === undefined)
    throw new UsageError(
      `--fail-on '${c.text}': '${c.path}' is not in the snapshot (see docs/snapshot.md)`,
    );
  const a = Number(v);
  const b = Number(c.value);
  if (typeof v === 'number' && Number.isFinite(b)) {
    switch (c.op) {
      case '>':
        return a > b;
      case '>=':
        return a >= b;
      case '<':
        return a < b;
      case '<=':
        return a <= b;
      case '==':
        return a === b;
      case '!=':
        return a !== b;
    }
  }
  if (c.op === '==') return String(v) === c.value;
  if (c.op === '!=') return String(v) !== c.value;
  throw new UsageError(`--fail-on '${c.text}': '${c.path}' is ${JSON.stringify(v)}, not a number`);
}
