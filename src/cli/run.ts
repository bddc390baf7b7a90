// `cmascope run <workload>`: simulate headless and write snapshots in a machine-readable format.
import { exporter, FORMATS, type Format } from '../metrics/exporters.js';
import { holds, parseCondition } from '../metrics/fail_on.js';
import { visible } from '../metrics/fmt.js';
import type { Snapshot } from '../metrics/snapshot.js';
import { formatDuration, parseDuration } from '../sim/units.js';
import { startRun } from '../workload/loader.js';
import { type RunArgs, runRequest, workloadFailed, workloadPath } from './options.js';
import { fileOutput, namesOneOf, type Output, stdoutOutput } from './output.js';
import { PROGRESS_MS, type ServeArgs, type Serving, serve } from './serve.js';
import { UsageError } from './usage.js';

export interface RunCommandArgs extends RunArgs, ServeArgs {
  workload?: string | undefined;
  format: Format;
  interval?: string | undefined;
  failOn: string[];
  output?: string | undefined;
  check?: boolean;
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

/** The signals that end a run early: its output is closed whole, a -o file left as it was. */
const SIGNALS = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;
type Signal = keyof typeof SIGNALS;

export async function runCommand(a: RunCommandArgs): Promise<number> {
  const file = workloadPath(a.workload);
  const interval = parseInterval(a.interval);
  const req = runRequest(file, a, interval);
  if (a.check) req.check = true;
  const conditions = a.failOn.map(parseCondition);
  if (a.output !== undefined && namesOneOf(a.output, [file]))
    throw new UsageError(`-o ${a.output} is the workload itself: choose another output file`);
  warnOddOptions(a);
  /** what --serve shows: the latest snapshot of the run, then its final one */
  let latest: Snapshot | undefined;
  let serving: Serving | undefined;
  if (a.serve !== undefined) {
    req.progressMs = PROGRESS_MS;
    serving = await serve(a.serve, () => latest);
  }
  let out: Output;
  try {
    out = a.output === undefined ? stdoutOutput : fileOutput(a.output);
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
    watchdogMs: parseDuration(a.watchdog, '--watchdog') / 1e6,
    onMessage: (m) => {
      if (m.type === 'loaded' && a.output !== undefined && namesOneOf(a.output, m.inputs)) {
        refused = `-o ${a.output} is a file the workload imports: choose another output file`;
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
      attempt(() => out.commit());
    }
    if (writeError) {
      process.stderr.write(`cmascope: ${writeError.message}\n`);
      return 1;
    }
    if (!outcome.ok) {
      if (begun) write(exp.abort()); // stdout: a whole document of what there was
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
    out.discard();
    throw e;
  } finally {
    for (const s of Object.keys(SIGNALS) as Signal[]) process.off(s, onSignal);
    await serving?.close();
  }
}
