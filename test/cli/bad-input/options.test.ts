// Bad input to the options that run, check, tui and compare share (issue #13): --seed, --policy,
// --set, and --fail-on. Each is a usage error: one line naming the cause, exit 2.
import { type BadInput, catalogue, SMALL } from './catalogue.js';

const VALID_POLICIES =
  'teePin, teeAccounting, cmaRetry, cmaEligibility, placement, pcp, pinsLongtermByDefault';

/** `run w.ts <args>` on the small workload. */
const run = (name: string, args: string[], stderr: string, exit = 2): BadInput => ({
  name,
  args: ['run', 'w.ts', ...args],
  files: { 'w.ts': SMALL },
  exit,
  stderr,
});

const seed = (value: string) =>
  run(
    `--seed ${value}`,
    ['--seed', value],
    `cmascope: invalid --seed '${value}': expected a non-negative integer`,
  );

const failOn = (cond: string, value: string) =>
  run(
    `--fail-on '${cond}'`,
    ['--fail-on', cond],
    `cmascope: invalid --fail-on '${cond}': '${value}' is not a number`,
  );

catalogue('run options: --seed, --policy, --set, --fail-on', [
  ...['abc', '-1', '1.5', '1e30', '', '99999999999999999999', '0x10'].map(seed),
  // the note about a host beyond loopback comes only once it listens: the error stands alone
  run(
    '--serve on an address this machine does not have (TEST-NET-1)',
    ['--serve', '192.0.2.1:9464'],
    'cmascope: cannot serve on 192.0.2.1:9464 (--serve 192.0.2.1:9464): no such address on this machine',
  ),
  ...['__proto__', 'constructor', 'toString', 'hasOwnProperty'].map((key) =>
    run(
      `--policy ${key}=x`,
      ['--policy', `${key}=x`],
      `cmascope: unknown policy '${key}': valid policies are ${VALID_POLICIES}`,
    ),
  ),
  ...['__proto__', 'constructor', 'toString'].map((key) =>
    run(
      `--set ${key}=1`,
      ['--set', `${key}=1`],
      `cmascope: unknown parameter '${key}': the workload has size`,
    ),
  ),
  run(
    '--set x=1 (unknown)',
    ['--set', 'x=1'],
    "cmascope: unknown parameter 'x': the workload has size",
  ),
  run(
    '--set size (no value)',
    ['--set', 'size'],
    "cmascope: invalid --set 'size': expected key=value",
  ),
  run('--set =1 (no key)', ['--set', '=1'], "cmascope: invalid --set '=1': expected key=value"),
  failOn('cma_alloc_fail>NaN', 'NaN'),
  failOn('cma_alloc_fail>=Infinity', 'Infinity'),
  failOn('cma_alloc_fail<1e999', '1e999'),
  failOn('cma_alloc_fail<=ENOMEM', 'ENOMEM'),
  run(
    "--fail-on 'toString>0' (a name every object has)",
    ['--fail-on', 'toString>0'],
    "cmascope: --fail-on 'toString>0': 'toString' is not in the snapshot (see docs/snapshot.md)",
  ),
  run(
    "--fail-on '' (empty)",
    ['--fail-on', ''],
    "cmascope: invalid --fail-on '': expected <name><op><value> with op one of >= <= == != > <, e.g. cma_alloc_fail>0",
  ),
]);
