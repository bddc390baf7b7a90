// Options shared by run, tui, watch and compare: which workload, kernel, policies, seed, params.

import { existsSync, readdirSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Argv } from 'yargs';
import { KERNEL_VERSIONS, type KernelVersion, type Policies } from '../kernel/config.js';
import { parseDuration } from '../sim/units.js';
import { optionValue, UsageError } from '../usage-error.js';
import { checkPolicy } from '../workload/define.js';
import { errorLine, type WorkloadErrorInfo } from '../workload/errors.js';
import type { RunRequest } from '../workload/protocol.js';
import { COMMANDS, closest } from './suggest.js';

/** The workloads that come with cmascope, found by name as well as by path. */
const BUNDLED_DIR = fileURLToPath(new URL('../../workloads/', import.meta.url));

/** The bundled workloads' names (their files without .ts), sorted. */
export const bundledWorkloads = (): string[] =>
  readdirSync(BUNDLED_DIR)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => f.slice(0, -'.ts'.length))
    .sort();

/** The bundled default workload. */
export const DEFAULT_WORKLOAD = join(BUNDLED_DIR, 'secure-playback.ts');

export const runOptions = <T>(y: Argv<T>) =>
  y
    .option('kernel', {
      type: 'string', // not a number: 6.4 and 6.18 are names, and 6.40 is not 6.4
      choices: KERNEL_VERSIONS,
      describe: 'kernel version (default: the workload’s)',
    })
    .option('policy', {
      type: 'string',
      array: true,
      default: [] as string[],
      describe: 'policy switch key=value[,key=value] (teePin, teeAccounting, cmaRetry, ...)',
    })
    .option('seed', {
      type: 'string', // parsed here: yargs would turn 'abc' into NaN
      describe: 'seed of every random stream (default: 1)',
    })
    .option('set', {
      type: 'string',
      array: true,
      default: [] as string[],
      describe: 'workload parameter key=value',
    })
    .option('until', {
      type: 'string',
      describe: 'simulated time to stop at (default: the workload’s duration)',
    })
    .option('watchdog', {
      type: 'string',
      default: '10s',
      describe: 'wall time a workload may run without yielding before it is stopped',
    });

export interface RunArgs {
  kernel?: KernelVersion | undefined;
  policy: string[];
  seed?: string | undefined;
  set: string[];
  until?: string | undefined;
  watchdog: string;
}

function pairs(items: string[], what: string): [string, string][] {
  return items
    .flatMap((s) => s.split(','))
    .filter((s) => s !== '')
    .map((s) => {
      const i = s.indexOf('=');
      if (i <= 0) throw new UsageError(`invalid ${what} '${s}': expected key=value`);
      return [s.slice(0, i), s.slice(i + 1)];
    });
}

/** --policy key=value lists into policies, checked against the valid values. */
export function parsePolicies(items: string[]): Partial<Policies> {
  const out: Record<string, unknown> = Object.create(null);
  for (const [key, raw] of pairs(items, '--policy')) {
    const value = raw === 'true' ? true : raw === 'false' ? false : raw;
    optionValue(() => checkPolicy(key, value));
    out[key] = value;
  }
  return out as Partial<Policies>;
}

/**
 * The workload's path: a file, else the name of a bundled workload (`secure-playback`), else a
 * usage error; none given: the bundled default.
 */
export function workloadPath(file: string | undefined): string {
  if (file === undefined) return DEFAULT_WORKLOAD;
  const path = isAbsolute(file) ? file : resolve(process.cwd(), file);
  if (existsSync(path)) return path;
  const name = file.replace(/\.ts$/, '');
  if (bundledWorkloads().includes(name)) return join(BUNDLED_DIR, `${name}.ts`);
  // `cmascope comapre`: the default command took a mistyped command for a workload
  const command = process.argv[2] === file ? closest(file, COMMANDS) : undefined;
  const bundled = closest(name, bundledWorkloads());
  const hint = command
    ? `did you mean the command '${command}'?`
    : bundled
      ? `did you mean '${bundled}'?`
      : `bundled workloads: ${bundledWorkloads().join(', ')}`;
  throw new UsageError(`no such workload file: ${file} (${hint})`);
}

/** A workload that did not load or run: `file:line:column: message` and the code frame. */
export function workloadFailed(e: WorkloadErrorInfo): number {
  process.stderr.write(`cmascope: ${errorLine(e)}\n${e.frame ? `${e.frame}\n` : ''}`);
  return e.phase === 'load' ? 2 : 1;
}

/** --seed as written: digits only (no sign, fraction, exponent or hex), at most 2^53 - 1. */
function parseSeed(text: string): number {
  const seed = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(seed))
    throw new UsageError(`invalid --seed '${text}': expected a non-negative integer`);
  return seed;
}

/** A duration option (--until, --watchdog) in ns; a malformed one is a usage error. */
export const durationOption = (text: string, flag: string): number =>
  optionValue(() => parseDuration(text, flag));

export function runRequest(file: string, a: RunArgs, intervalNs?: number): RunRequest {
  const req: RunRequest = {
    file,
    seed: parseSeed(a.seed ?? '1'),
    set: Object.fromEntries(pairs(a.set, '--set')),
    policies: parsePolicies(a.policy),
  };
  if (a.kernel) req.version = a.kernel;
  if (a.until !== undefined) req.untilNs = durationOption(a.until, '--until');
  if (intervalNs !== undefined) req.intervalNs = intervalNs;
  return req;
}
