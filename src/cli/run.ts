// `cmascope run <workload>`: simulate headless and write snapshots in a machine-readable format.
import { createWriteStream, existsSync, openSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { exporter, type Format } from '../metrics/exporters.js';
import { holds, parseCondition } from '../metrics/fail_on.js';
import { parseDuration } from '../sim/units.js';
import { errorLine } from '../workload/errors.js';
import { startRun } from '../workload/loader.js';
import { type RunArgs, runRequest, workloadPath } from './options.js';

export interface RunCommandArgs extends RunArgs {
  workload?: string | undefined;
  format: Format;
  interval?: string | undefined;
  failOn: string[];
  output?: string | undefined;
  check?: boolean;
}

/** A usage problem found before running: one line on stderr, exit 2. */
export class UsageError extends Error {}

/** `-o <file>`: opened now, so that a path that cannot be written is a usage error (exit 2). */
function outputFile(path: string): Writable {
  let fd: number;
  try {
    fd = openSync(path, 'w');
  } catch (e) {
    throw new UsageError(`cannot write -o ${path}: ${(e as Error).message}`);
  }
  const out = createWriteStream('', { fd });
  out.on('error', (e) => {
    process.stderr.write(`cmascope: writing ${path}: ${e.message}\n`);
    process.exit(1);
  });
  return out;
}

export async function runCommand(a: RunCommandArgs): Promise<number> {
  const file = workloadPath(a.workload);
  if (!existsSync(file)) throw new UsageError(`no such workload file: ${a.workload}`);
  const interval = a.interval === undefined ? undefined : parseDuration(a.interval, '--interval');
  if (interval === 0) throw new UsageError('--interval must be greater than 0');
  const req = runRequest(file, a, interval);
  if (a.check) req.check = true;
  const conditions = a.failOn.map(parseCondition);
  const out: Writable = a.output ? outputFile(a.output) : process.stdout;
  const exp = exporter(a.format);
  const run = startRun(req, {
    watchdogMs: parseDuration(a.watchdog, '--watchdog') / 1e6,
    onMessage: (m) => {
      // nothing reaches stdout for a workload that does not load
      if (m.type === 'loaded' && !a.check) out.write(exp.begin());
      if (m.type === 'snapshot') out.write(exp.snapshot(m.snapshot));
    },
  });
  const outcome = await run.done;
  if (!outcome.ok) {
    const e = outcome.error;
    process.stderr.write(`cmascope: ${errorLine(e)}\n${e.frame ? `${e.frame}\n` : ''}`);
    return e.phase === 'load' ? 2 : 1;
  }
  if (a.check) {
    process.stderr.write(`cmascope: ${a.workload ?? 'the default workload'} is valid\n`);
    return 0;
  }
  out.write(exp.end(outcome.final));
  if (out !== process.stdout) await new Promise((r) => out.end(r));
  const met = conditions.filter((c) => holds(c, outcome.final));
  for (const c of met) process.stderr.write(`cmascope: --fail-on ${c.text}: condition met\n`);
  return met.length > 0 ? 3 : 0;
}
