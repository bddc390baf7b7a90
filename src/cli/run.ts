// `cmascope run <workload>`: simulate headless and write snapshots in a machine-readable format,
// and with --trace / --dmesg the run's whole trace and kernel log.
import { resolve } from 'node:path';
import { selectEvents } from '../kernel/observe/ftrace.js';
import { TRACE_NAMES, type TraceName } from '../kernel/observe/trace.js';
import { exporter, FORMATS, type Format } from '../metrics/exporters.js';
import { holds, parseCondition } from '../metrics/fail_on.js';
import { visible } from '../metrics/fmt.js';
import type { Snapshot } from '../metrics/snapshot.js';
import { formatDuration, parseDuration } from '../sim/units.js';
import { UsageError } from '../usage-error.js';
import { startRun } from '../workload/loader.js';
import type { RunRequest } from '../workload/protocol.js';
import {
  durationOption,
  type RunArgs,
  runRequest,
  workloadFailed,
  workloadPath,
} from './options.js';
import { fileOutput, namesOneOf, type Output, stdoutOutput } from './output.js';
import { PROGRESS_MS, type ServeArgs, type Serving, serve } from './serve.js';
import { type TraceOutput, traceOutput } from './trace-output.js';

export interface RunCommandArgs extends RunArgs, ServeArgs {
  workload?: string | undefined;
  format: Format;
  interval?: string | undefined;
  failOn: string[];
  output?: string | undefined;
  check?: boolean;
  /** --trace FILE: every trace record, in ftrace's text */
  trace?: string | undefined;
  /** --events: which trace events (default: all) */
  events?: string | undefined;
  /** --dmesg FILE: the kernel log */
  dmesg?: string | undefined;
}

/** The shortest --interval: 1 ms already makes 600,000 snapshots of a 10-minute workload. */
const MIN_INTERVAL_NS = 1e6;

/** --interval as ns (undefined: only the final snapshot). */
export function parseInterval(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  let ns = 0;
  try {
    ns = parseDuration(text, '--interval');
  } catch {
    // not a duration: the same message as one that is too short
  }
  if (ns < MIN_INTERVAL_NS)
    throw new UsageError(
      `invalid --interval '${text}': expected a duration of at least ${formatDuration(MIN_INTERVAL_NS)}, e.g. '1s'`,
    );
  return ns;
}

/** Options that do what was asked but probably not what was meant: a line on stderr each. */
function warnOddOptions(a: RunCommandArgs): void {
  const warn = (text: string) => process.stderr.write(`cmascope: note: ${text}\n`);
  if (a.output !== undefined && a.format === 'text' && FORMATS.includes(a.output as Format))
    warn(
      `-o ${a.output} writes the text report to a file named '${a.output}'; for that format: -f ${a.output}`,
    );
  if (a.interval !== undefined && !SERIES_FORMATS.includes(a.format))
    warn(
      `-f ${a.format} shows the final snapshot only: --interval has no effect (use ndjson, json, csv or openmetrics)`,
    );
}

/** The formats that write every interval snapshot, not only the final one. */
const SERIES_FORMATS: readonly Format[] = ['ndjson', 'json', 'csv', 'openmetrics'];

/** The files the options name, by option (`-` is stdout, not a file). */
function outputFiles(a: RunCommandArgs): [string, string][] {
  const named: [string, string][] = [];
  if (a.output !== undefined) named.push(['-o', a.output]);
  if (a.trace !== undefined && a.trace !== '-') named.push(['--trace', a.trace]);
  if (a.dmesg !== undefined && a.dmesg !== '-') named.push(['--dmesg', a.dmesg]);
  for (const [i, [flag, path]] of named.entries()) {
    const same = named.slice(0, i).find(([, p]) => namesOneOf(path, [resolve(p)], flag));
    if (same) throw new UsageError(`${flag} ${path} is also ${same[0]}: choose another file`);
  }
  const stdout = [a.trace === '-' && '--trace -', a.dmesg === '-' && '--dmesg -'].filter(Boolean);
  if (stdout.length > 0 && a.output === undefined)
    throw new UsageError(`${stdout[0]} writes to stdout, where the data goes: add -o FILE`);
  if (stdout.length > 1) throw new UsageError('--trace - and --dmesg - both name stdout');
  return named;
}

/** What the run's worker streams: the selected trace events, the kernel log. */
function recordRequest(a: RunCommandArgs): Pick<RunRequest, 'trace' | 'dmesg'> {
  if (a.events !== undefined && a.trace === undefined)
    throw new UsageError('--events selects what --trace writes: add --trace FILE');
  let trace: TraceName[] | undefined;
  try {
    if (a.trace !== undefined)
      trace = a.events === undefined ? TRACE_NAMES : selectEvents(a.events.split(','));
  } catch (e) {
    throw new UsageError(`--events: ${(e as Error).message}`);
  }
  return { ...(trace && { trace }), ...(a.dmesg !== undefined && { dmesg: true }) };
}

/** The --trace and --dmesg outputs, opened now (a path that cannot be written: exit 2). */
function sideOutputs(a: RunCommandArgs, out: Output) {
  let trace: TraceOutput | undefined;
  let dmesg: Output | undefined;
  const discard = () => {
    trace?.discard();
    dmesg?.discard();
  };
  try {
    if (a.trace !== undefined) trace = traceOutput(a.trace);
    if (a.dmesg !== undefined)
      dmesg = a.dmesg === '-' ? stdoutOutput : fileOutput(a.dmesg, '--dmesg');
  } catch (e) {
    discard();
    out.discard();
    throw e;
  }
  return { trace, dmesg, discard };
}

/** The signals that end a run early: its output is closed whole, a -o file left as it was. */
const SIGNALS = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;
type Signal = keyof typeof SIGNALS;

export async function runCommand(a: RunCommandArgs): Promise<number> {
  const file = workloadPath(a.workload);
  const interval = parseInterval(a.interval);
  const req = runRequest(file, a, interval);
  if (a.check) req.check = true;
  const conditions = a.failOn.map(parseCondition);
  const named = outputFiles(a);
  for (const [flag, path] of named)
    if (namesOneOf(path, [file], flag))
      throw new UsageError(`${flag} ${path} is the workload itself: choose another output file`);
  Object.assign(req, recordRequest(a));
  warnOddOptions(a);
  /** what --serve shows: the latest snapshot of the run, then its final one */
  let latest: Snapshot | undefined;
  let serving: Serving | undefined;
  if (a.serve !== undefined) {
    req.progressMs = PROGRESS_MS;
    serving = await serve(a.serve, () => latest);
  }
  let out: Output;
  let side: ReturnType<typeof sideOutputs>;
  try {
    out = a.output === undefined ? stdoutOutput : fileOutput(a.output);
    side = sideOutputs(a, out);
  } catch (e) {
    await serving?.close();
    throw e;
  }
  const exp = exporter(a.format, { intervals: interval !== undefined });
  let begun = false;
  let description = '';
  let refused: string | undefined;
  let signal: Signal | undefined;
  let writeError: Error | undefined;
  /** out.write or out.commit; a failure (a full disk) stops the run, the -o file left as it was */
  const attempt = (fn: () => void) => {
    if (writeError) return;
    try {
      fn();
    } catch (e) {
      writeError = e as Error;
      void run.stop();
    }
  };
  const write = (text: string) => attempt(() => out.write(text));
  const run = startRun(req, {
    watchdogMs: durationOption(a.watchdog, '--watchdog') / 1e6,
    onMessage: (m) => {
      const imported = m.type === 'loaded' && named.find(([f, p]) => namesOneOf(p, m.inputs, f));
      if (imported) {
        refused = `${imported[0]} ${imported[1]} is a file the workload imports: choose another output file`;
        void run.stop();
      }
      if (m.type === 'loaded') description = m.description;
      if (m.type === 'snapshot' || m.type === 'progress') latest = m.snapshot;
      if (refused || a.check) return;
      // nothing reaches the output for a workload that does not load
      if (m.type === 'loaded') {
        begun = true;
        write(exp.begin());
      }
      if (m.type === 'snapshot') write(exp.snapshot(m.snapshot));
      if (m.type === 'trace') attempt(() => side.trace?.write(m.bytes, m.records));
      if (m.type === 'dmesg') attempt(() => side.dmesg?.write(m.text));
    },
  });
  /** ends the wait of a finished run that goes on serving */
  let stopServing = () => {};
  const onSignal = (s: Signal) => {
    signal = s;
    void run.stop();
    stopServing();
  };
  for (const s of Object.keys(SIGNALS) as Signal[]) process.once(s, onSignal);
  try {
    const outcome = await run.done;
    if (outcome.ok && !a.check) {
      write(exp.end(outcome.final));
      attempt(() => side.trace?.commit());
      attempt(() => side.dmesg?.commit());
      attempt(() => out.commit());
    }
    if (writeError) {
      side.discard();
      out.discard();
      process.stderr.write(`cmascope: ${writeError.message}\n`);
      return 1;
    }
    if (!outcome.ok) {
      if (begun) write(exp.abort()); // stdout: a whole document of what there was
      side.discard();
      out.discard();
      if (refused) throw new UsageError(refused);
      if (signal) {
        const kept = a.output === undefined ? '' : `; ${a.output} left as it was`;
        process.stderr.write(`cmascope: interrupted by ${signal}${kept}\n`);
        return SIGNALS[signal];
      }
      return workloadFailed(outcome.error);
    }
    if (a.check) {
      const about = description ? `: ${visible(description)}` : '';
      process.stderr.write(`cmascope: ${a.workload ?? 'the default workload'} is valid${about}\n`);
      return 0;
    }
    const met = conditions.filter((c) => holds(c, outcome.final));
    for (const c of met) process.stderr.write(`cmascope: --fail-on ${c.text}: condition met\n`);
    if (serving && !signal) {
      // like a textfile exporter: the final snapshot stays readable until the user is done
      latest = outcome.final;
      process.stderr.write(
        `cmascope: the run is over; serving its final snapshot until SIGINT or SIGTERM\n`,
      );
      await new Promise<void>((resolve) => (stopServing = resolve));
    }
    return met.length > 0 ? 3 : 0;
  } catch (e) {
    side.discard();
    out.discard();
    throw e;
  } finally {
    for (const s of Object.keys(SIGNALS) as Signal[]) process.off(s, onSignal);
    await serving?.close();
  }
}
