// Bad input to `cmascope compare` (issue #13): hostile --workers, --seeds, --shard and variants,
// workloads that do not load or throw, and shard records that --merge must not join blindly.
import { expect } from 'vitest';
import { BUNDLED, lines } from '../cli.js';
import { type BadInput, catalogue, SMALL, workloadWith } from './catalogue.js';

const HASH = 'a5d99291755b35c5';
const VALID_POLICIES =
  'teePin, teeAccounting, cmaRetry, cmaEligibility, placement, pcp, pinsLongtermByDefault';

/** One record line as `compare --shard` prints it. */
function record(seed: number, over: Record<string, unknown> = {}, key = {}): string {
  return JSON.stringify({
    key: { workload: HASH, variant: 'teePin=upstream', variant_index: 0, seed, ...key },
    results: { touched: 0 },
    cma_alloc_success: 0,
    cma_alloc_fail: 0,
    pgmigrate_success: 0,
    memlock_denied: 0,
    latency_ns: null,
    first_failure: null,
    ...over,
  });
}
const shard = (...recs: string[]) => `${recs.join('\n')}\n`;

/** `compare w.ts --policy teePin=upstream <args>` on the small workload. */
const compare = (
  name: string,
  args: string[],
  exit: number,
  stderr: string | RegExp,
): BadInput => ({
  name,
  args: ['compare', 'w.ts', '--policy', 'teePin=upstream', ...args],
  files: { 'w.ts': SMALL },
  exit,
  stderr,
});

const mergeOf = (
  name: string,
  files: Record<string, string>,
  exit: number,
  stderr: string | RegExp,
  check?: BadInput['check'],
): BadInput => ({
  name,
  args: ['compare', '--merge', ...Object.keys(files)],
  files,
  exit,
  stderr,
  ...(check ? { check } : {}),
});

const notRecord = (what: string, line: string, problem: string): BadInput =>
  mergeOf(
    `--merge: ${what}`,
    { 'a.jsonl': shard(record(1), line) },
    2,
    `cmascope: a.jsonl:2: not a compare record (${problem})`,
  );

const runs = (n: number) => (r: { stdout: string }) =>
  expect(r.stdout).toContain(`▸ teePin=upstream  (${n} runs)`);

catalogue('compare --merge: every run once, from one comparison', [
  {
    ...mergeOf('the same shard twice', { 'a.jsonl': shard(record(1), record(2)) }, 0, '', runs(2)),
    args: ['compare', '--merge', 'a.jsonl', 'a.jsonl'],
  },
  mergeOf(
    'overlapping shards: a run in both, identical',
    { 'a.jsonl': shard(record(1), record(2)), 'b.jsonl': shard(record(2), record(3)) },
    0,
    '',
    runs(3),
  ),
  mergeOf(
    'the same run with different results in two shards',
    {
      'a.jsonl': shard(record(1)),
      'b.jsonl': shard(record(2), record(1, { cma_alloc_fail: 3 })),
    },
    2,
    'cmascope: a.jsonl:1 and b.jsonl:2 hold the same run (teePin=upstream, seed 1) with different results',
  ),
  mergeOf(
    'the same run with different results in one shard',
    { 'a.jsonl': shard(record(1), record(1, { results: { touched: 1 } })) },
    2,
    'cmascope: a.jsonl:1 and a.jsonl:2 hold the same run (teePin=upstream, seed 1) with different results',
  ),
  mergeOf(
    'shards of different workloads',
    {
      'a.jsonl': shard(record(1)),
      'b.jsonl': shard(record(2, {}, { workload: '0123456789abcdef' })),
    },
    2,
    `cmascope: a.jsonl:1 and b.jsonl:1 are runs of different workloads (${HASH} and 0123456789abcdef)`,
  ),
  mergeOf(
    'shards of different comparisons: variant 0 is another variant',
    {
      'a.jsonl': shard(record(1)),
      'b.jsonl': shard(record(2, {}, { variant: 'teePin=v2-longterm' })),
    },
    2,
    "cmascope: a.jsonl:1 and b.jsonl:1 are from different comparisons (variant 0 is 'teePin=upstream' in one, 'teePin=v2-longterm' in the other)",
  ),
  mergeOf(
    'shards of different comparisons: the variant at another position',
    { 'a.jsonl': shard(record(1)), 'b.jsonl': shard(record(2, {}, { variant_index: 1 })) },
    2,
    "cmascope: a.jsonl:1 and b.jsonl:1 are from different comparisons (variant 'teePin=upstream' is 0 in one, 1 in the other)",
  ),
  notRecord('an empty object', '{}', 'key: an object expected'),
  notRecord('an array', '[]', 'a JSON object expected'),
  notRecord('null', 'null', 'a JSON object expected'),
  notRecord('a string', '"run"', 'a JSON object expected'),
  notRecord(
    'a seed that is a string',
    record(2, {}, { seed: '2' }),
    'key.seed: a whole number expected',
  ),
  notRecord('a negative seed', record(2, {}, { seed: -2 }), 'key.seed: a whole number expected'),
  notRecord('no variant', record(2, {}, { variant: undefined }), 'key.variant: a string expected'),
  notRecord(
    'a counter missing',
    record(2, { cma_alloc_fail: undefined }),
    'cma_alloc_fail: a whole number expected',
  ),
  notRecord('results not an object', record(2, { results: [] }), 'results: an object expected'),
  notRecord(
    'latency neither null nor {median, max}',
    record(2, { latency_ns: 5 }),
    'latency_ns: null or { median, max } expected',
  ),
  notRecord(
    'first_failure neither null nor an object',
    record(2, { first_failure: 'EBUSY' }),
    'first_failure: null or { t, op, errno, ... } expected',
  ),
  notRecord('error not a string', record(2, { error: 1 }), 'error: a string expected'),
  mergeOf(
    'a line that is not JSON, after a blank line (the line number counts it)',
    { 'a.jsonl': `${record(1)}\n\n{"key":\n` },
    2,
    'cmascope: a.jsonl:3: not a compare record (JSON expected)',
  ),
  mergeOf(
    'an empty shard file (a shard whose output was lost)',
    { 'a.jsonl': shard(record(1)), 'b.jsonl': '' },
    2,
    'cmascope: b.jsonl: no compare records in the file',
  ),
  {
    name: '--merge: a file that does not exist',
    args: ['compare', '--merge', 'nope.jsonl'],
    exit: 2,
    stderr: /^cmascope: cannot read --merge nope\.jsonl: ENOENT: no such file or directory/,
  },
  {
    name: '--merge: a directory',
    args: ['compare', '--merge', '.'],
    exit: 2,
    stderr: /^cmascope: cannot read --merge \.: EISDIR: illegal operation on a directory/,
  },
  {
    name: '--merge: no files',
    args: ['compare', '--merge'],
    exit: 2,
    stderr: 'cmascope: --merge needs the record files of the shards to join',
  },
  {
    ...compare('--merge with a workload and variants to run', ['--merge', 'a.jsonl'], 2, ''),
    files: { 'w.ts': SMALL, 'a.jsonl': shard(record(1)) },
    stderr:
      'cmascope: --merge joins runs already made: give it no workload, --policy, --thread or --shard',
  },
  mergeOf(
    "results named '__proto__' and 'constructor' are counted like any other",
    {
      'a.jsonl': shard(
        record(1, { results: JSON.parse('{"__proto__":"x","constructor":"__proto__"}') }),
      ),
    },
    0,
    '',
    (r) => {
      expect(r.stdout).toContain('    __proto__: x×1\n');
      expect(r.stdout).toContain('    constructor: __proto__×1\n');
    },
  ),
  mergeOf(
    'a record of a run that failed: its reason, exit 1',
    { 'a.jsonl': shard(record(1), record(2, { error: 'w.ts:8:11: boom' })) },
    1,
    'cmascope: teePin=upstream seed 2: w.ts:8:11: boom',
    (r) => expect(r.stdout).toContain('(2 runs, 1 failed to run)'),
  ),
]);

const WORKERS = 'expected a whole number from 1 to 256';
const SEEDS = 'expected a range such as 1..50, a list such as 1,2,5, or both: 1..3,7';
const SHARD = 'expected i/n with 0 <= i < n, e.g. 0/4';

catalogue('compare: --workers, --seeds, --shard, --seed and variants', [
  compare(
    '--workers abc',
    ['--workers', 'abc'],
    2,
    `cmascope: invalid --workers 'abc': ${WORKERS}`,
  ),
  compare('--workers 0', ['--workers', '0'], 2, `cmascope: invalid --workers '0': ${WORKERS}`),
  compare('--workers -1', ['--workers', '-1'], 2, `cmascope: invalid --workers '-1': ${WORKERS}`),
  compare(
    '--workers 1.5',
    ['--workers', '1.5'],
    2,
    `cmascope: invalid --workers '1.5': ${WORKERS}`,
  ),
  compare(
    '--workers 1000',
    ['--workers', '1000'],
    2,
    `cmascope: invalid --workers '1000': ${WORKERS}`,
  ),
  compare("--workers ''", ['--workers', ''], 2, `cmascope: invalid --workers '': ${WORKERS}`),
  compare("--seeds ''", ['--seeds', ''], 2, `cmascope: invalid --seeds '': ${SEEDS}`),
  compare(
    '--seeds 1..99999999999999999999',
    ['--seeds', '1..99999999999999999999'],
    2,
    "cmascope: invalid --seeds '1..99999999999999999999': at most 100000 seeds",
  ),
  compare(
    '--seeds 99999999999999999999',
    ['--seeds', '99999999999999999999'],
    2,
    `cmascope: invalid --seeds '99999999999999999999': ${SEEDS}`,
  ),
  compare('--seeds 5..1', ['--seeds', '5..1'], 2, `cmascope: invalid --seeds '5..1': ${SEEDS}`),
  compare(
    '--seeds 1..3,2 gives seed 2 twice',
    ['--seeds', '1..3,2'],
    2,
    "cmascope: invalid --seeds '1..3,2': seed 2 is given twice",
  ),
  compare('--seeds 1..', ['--seeds', '1..'], 2, `cmascope: invalid --seeds '1..': ${SEEDS}`),
  compare('--seeds 1,,2', ['--seeds', '1,,2'], 2, `cmascope: invalid --seeds '1,,2': ${SEEDS}`),
  compare('--seeds 1.5', ['--seeds', '1.5'], 2, `cmascope: invalid --seeds '1.5': ${SEEDS}`),
  compare('--seeds -1', ['--seeds', '-1'], 2, `cmascope: invalid --seeds '-1': ${SEEDS}`),
  compare(
    '--seeds 1,2,1',
    ['--seeds', '1,2,1'],
    2,
    "cmascope: invalid --seeds '1,2,1': seed 1 is given twice",
  ),
  compare(
    'more runs than the cap: 2 variants × 60000 seeds',
    ['--policy', 'teePin=v2-longterm', '--seeds', '1..60000'],
    2,
    'cmascope: 2 variants × 60000 seeds make 120000 runs: at most 100000',
  ),
  compare('--shard 2/2', ['--shard', '2/2'], 2, `cmascope: invalid --shard '2/2': ${SHARD}`),
  compare('--shard 0/0', ['--shard', '0/0'], 2, `cmascope: invalid --shard '0/0': ${SHARD}`),
  compare('--shard half', ['--shard', 'half'], 2, `cmascope: invalid --shard 'half': ${SHARD}`),
  compare(
    '--shard 5/8 of 2 runs (an empty shard)',
    ['--shard', '5/8', '--seeds', '1,2'],
    2,
    "cmascope: invalid --shard '5/8': 2 runs make at most 2 shards",
  ),
  compare(
    '--seed instead of --seeds',
    ['--seed', '5'],
    2,
    'cmascope: compare runs the seeds of --seeds (e.g. --seeds 5), not --seed',
  ),
  compare(
    'the same variant twice (its runs would count twice)',
    ['--policy', 'teePin=upstream'],
    2,
    "cmascope: variant 'teePin=upstream' is given twice",
  ),
  compare(
    '--thread and one of its variants again',
    ['--thread'],
    2,
    "cmascope: variant 'teePin=upstream' is given twice",
  ),
  ...['', ','].map((name) =>
    compare(
      `an empty variant: --policy '${name}'`,
      ['--policy', name],
      2,
      `cmascope: empty variant '${name}': expected key=value[,key=value], e.g. teePin=upstream`,
    ),
  ),
  ...['__proto__', 'constructor', 'toString'].map((key) =>
    compare(
      `--policy ${key}=x`,
      ['--policy', `${key}=x`],
      2,
      `cmascope: unknown policy '${key}': valid policies are ${VALID_POLICIES}`,
    ),
  ),
  compare(
    '--policy teePin=__proto__',
    ['--policy', 'teePin=__proto__'],
    2,
    'cmascope: policy teePin=__proto__ is not valid: choose one of upstream, v1-cma-ifdef, v2-longterm',
  ),
]);

/** `compare w.ts --policy teePin=upstream --seeds 1,2` on the workload `w`. */
const compareOf = (
  name: string,
  w: string,
  exit: number,
  stderr: string | RegExp,
  check?: BadInput['check'],
  args: string[] = [],
): BadInput => ({
  name,
  args: ['compare', 'w.ts', '--policy', 'teePin=upstream', '--seeds', '1,2', ...args],
  files: { 'w.ts': w },
  exit,
  stderr,
  ...(check ? { check } : {}),
});

const oneError = (frame: boolean) => (r: { stdout: string; stderr: string }) => {
  expect(r.stdout).toBe('');
  expect(lines(r.stderr)).toHaveLength(frame ? 3 : 1); // the error once, not once per run
};

catalogue('compare: workloads that do not load or do not finish', [
  compareOf(
    'a syntax error: the error and its code frame, once',
    'import { defineWorkload } from "cmascope";\nexport default defineWorkload({ name: \n',
    2,
    /^cmascope: w\.ts:3:1: Unexpected end of file/,
    oneError(true),
  ),
  compareOf(
    'no default export',
    'export const w = 1;\n',
    2,
    'cmascope: TypeError: the workload module must `export default defineWorkload({...})`',
    oneError(false),
  ),
  compareOf(
    'an unknown --set parameter: once, not per run',
    SMALL,
    2,
    "cmascope: unknown parameter 'x': the workload has size",
    oneError(false),
    ['--set', 'x=1'],
  ),
  compareOf(
    '--set __proto__=1',
    SMALL,
    2,
    "cmascope: unknown parameter '__proto__': the workload has size",
    oneError(false),
    ['--set', '__proto__=1'],
  ),
  {
    name: 'a workload file that does not exist',
    args: ['compare', 'nope.ts', '--policy', 'teePin=upstream'],
    exit: 2,
    stderr: `cmascope: no such workload file: nope.ts (bundled workloads: ${BUNDLED})`,
  },
  compareOf(
    'a workload that throws: the reason for each failing run',
    workloadWith("    throw new Error('boom');"),
    1,
    /^cmascope: teePin=upstream seed 1: w\.ts:8:\d+: boom$/,
    (r) => {
      expect(r.stderr).toMatch(/^cmascope: teePin=upstream seed 2: w\.ts:8:\d+: boom$/m);
      expect(r.stdout).toContain('(2 runs, 2 failed to run)');
    },
  ),
  compareOf(
    'a workload that never yields: the watchdog stops each run',
    workloadWith('    for (;;) {}\n    yield sys.sleep(1);'),
    1,
    /^cmascope: teePin=upstream seed 1: .*(yield|watchdog)/,
    undefined,
    ['--watchdog', '5s'], // not less: on a loaded machine, loading alone may take a second
  ),
]);
