// `cmascope tui [workload]` (and `cmascope` with no arguments on a terminal): the live TUI.
// Ink and React load only here, so the headless commands start without them.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Argv } from 'yargs';
import type { Snapshot } from '../metrics/snapshot.js';
import { SPEEDS } from '../tui/presets.js';
import { UsageError } from '../usage-error.js';
import { Session } from '../workload/session.js';
import { watchWorkload } from '../workload/watcher.js';
import { durationOption, type RunArgs, runOptions, runRequest, workloadPath } from './options.js';
import { type ServeArgs, type Serving, serve, serveOption } from './serve.js';

/** Frames a second at most (issue 5 item 5): the UI's cost is set by how often React state changes. */
export const MAX_REFRESH_HZ = 10;
/** Map cells per CMA area in a frame; the TUI resamples them to the terminal's width. */
const MAP_CELLS = 1024;
const TRACE_LINES = 200;

export interface TuiArgs extends RunArgs, ServeArgs {
  workload?: string | undefined;
  refresh: number;
  speed: string;
  color: boolean;
  ascii: boolean;
  /** reload on every save (a directory: the workload saved last) */
  watch: boolean;
}

/** --speed takes the slowest step of `-` to the fastest finite one of `+`, or 'max'. */
const [MIN_SPEED, MAX_SPEED] = [SPEEDS[0]!, SPEEDS[SPEEDS.length - 2]!];

function parseSpeed(v: string): number {
  if (v === 'max') return Infinity;
  const n = Number(v.replace(/[x×]$/, ''));
  if (!(n >= MIN_SPEED && n <= MAX_SPEED))
    throw new UsageError(`invalid --speed ${v}: expected ${MIN_SPEED} to ${MAX_SPEED}, or 'max'`);
  return n;
}

/** The most recently saved workload (.ts) in a directory, for `cmascope watch <dir>`. */
function newestWorkload(dir: string): string {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .map((f) => join(dir, f))
    .sort((x, y) => statSync(y).mtimeMs - statSync(x).mtimeMs || x.localeCompare(y));
  if (!files[0]) throw new UsageError(`no workload (.ts) in ${dir}`);
  return files[0];
}

export const tuiOptions = <T>(y: Argv<T>) =>
  serveOption(runOptions(y))
    .option('refresh', {
      type: 'number',
      default: MAX_REFRESH_HZ,
      describe: `frames a second from the simulation (at most ${MAX_REFRESH_HZ})`,
    })
    .option('speed', {
      type: 'string',
      default: '1',
      describe: `simulated seconds per wall second (${MIN_SPEED} to ${MAX_SPEED}), or 'max'`,
    })
    .option('color', {
      type: 'boolean',
      default: true,
      describe: 'colours (--no-color, or NO_COLOR set, for none; glyphs still tell states apart)',
    })
    .option('watch', {
      type: 'boolean',
      default: false,
      describe: 'reload the workload on every save, keeping the monitor',
    })
    .option('ascii', {
      type: 'boolean',
      default: false,
      describe: 'ASCII only: no braille or block glyphs',
    });

/** Whether `cmascope` alone should open the TUI: no arguments, and a terminal on both ends. */
export const wantsTui = (argv: readonly string[]): boolean =>
  argv.length === 0 && process.stdout.isTTY === true && process.stdin.isTTY === true;

export async function tuiCommand(a: TuiArgs): Promise<number> {
  const target = workloadPath(a.workload);
  const file = statSync(target).isDirectory() ? newestWorkload(target) : target;
  if (!(a.refresh > 0 && a.refresh <= MAX_REFRESH_HZ)) {
    throw new UsageError(
      `invalid --refresh ${a.refresh}: expected more than 0 and at most ${MAX_REFRESH_HZ}`,
    );
  }
  const speed = parseSpeed(a.speed);
  if (!process.stdout.isTTY || !process.stdin.isTTY) {
    throw new UsageError(
      'the TUI needs a terminal on stdin and stdout; for headless output use `cmascope run`',
    );
  }
  const req = runRequest(file, a);
  const watchdogMs = durationOption(a.watchdog, '--watchdog') / 1e6;
  // React's development build is several times slower and keeps a performance entry per render
  // (facebook/react#35761): a monitor that runs for hours wants the production one
  process.env.NODE_ENV ??= 'production';
  const { runTui } = await import('../tui/index.js');
  const { colorEnabled, makeTheme } = await import('../tui/theme.js');
  const session = new Session(
    {
      ...req,
      live: {
        refreshHz: a.refresh,
        speed,
        paused: false,
        mapCells: MAP_CELLS,
        traceLines: TRACE_LINES,
      },
    },
    { watchdogMs },
  );
  const theme = makeTheme({
    color: colorEnabled(process.env, !a.color),
    ascii: a.ascii,
    plain: process.env.FORCE_COLOR === '0',
  });
  /** what --serve shows: the snapshot of the frame on screen */
  let latest: Snapshot | undefined;
  const serving: Serving | undefined =
    a.serve === undefined ? undefined : await serve(a.serve, () => latest);
  session.on('frame', (f) => (latest = f.snapshot));
  const watcher = a.watch
    ? watchWorkload(target, (f) => session.restart({ file: f }, 'reload'))
    : undefined;
  session.on('started', (info) => watcher?.track(info.inputs));
  try {
    return await runTui(session, { theme, speed, basePolicies: req.policies });
  } catch (e) {
    process.stderr.write(
      `cmascope: the TUI failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
    );
    return 1;
  } finally {
    await Promise.all([watcher?.close(), serving?.close()]);
  }
}
