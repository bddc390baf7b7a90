// The cmascope command line (README.md "Using it"). Exit codes: 0 ok, 1 runtime
// error, 2 usage error or invalid workload, 3 when a --fail-on condition was met.
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { FORMATS, type Format } from '../metrics/exporters.js';
import { UsageError } from '../usage-error.js';
import { captureCommand } from './capture.js';
import { compareCommand } from './compare.js';
import { importCommand } from './import.js';
import { listCommand } from './list.js';
import { runOptions } from './options.js';
import { runCommand } from './run.js';
import { serveOption } from './serve.js';
import { COMMANDS, closest } from './suggest.js';
import { MAX_REFRESH_HZ, tuiCommand, tuiOptions, wantsTui } from './tui.js';
import { watchRunCommand } from './watch.js';

// Quiet on EPIPE (`cmascope run ... | head`); any other write error (a full disk) is one line, exit 1
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE') process.stderr.write(`cmascope: cannot write to stdout: ${e.message}\n`);
  process.exit(e.code === 'EPIPE' ? 0 : 1);
});

const exit = (code: number) => {
  process.exitCode = code;
};

/** A command's exit code; what it throws is one line on stderr: a UsageError exit 2, the rest 1. */
async function guarded(fn: () => Promise<number>): Promise<void> {
  try {
    exit(await fn());
  } catch (e) {
    process.stderr.write(`cmascope: ${e instanceof Error ? e.message : String(e)}\n`);
    exit(e instanceof UsageError ? 2 : 1);
  }
}

const headlessOptions = <T>(y: Argv<T>) =>
  serveOption(runOptions(y))
    .option('format', {
      alias: 'f',
      choices: FORMATS,
      default: 'text' as Format,
      describe: 'output format',
    })
    .option('interval', { type: 'string', describe: 'simulated time between snapshots (e.g. 1s)' })
    .option('fail-on', {
      type: 'string',
      array: true,
      default: [] as string[],
      describe: 'exit 3 if this holds at the end, e.g. cma_alloc_fail>0',
    })
    .option('output', {
      alias: 'o',
      type: 'string',
      describe: 'write the data here instead of stdout',
    })
    .option('watch', {
      type: 'boolean',
      default: false,
      describe: 'run again on every save of the workload (ndjson or text)',
    })
    .option('trace', {
      type: 'string',
      nargs: 1, // `--trace -` (stdout): the dash is its value
      describe: 'write every trace record here, as tracefs prints them (-: stdout, with -o)',
    })
    .option('events', {
      type: 'string',
      describe: 'the trace events to write, as trace-cmd -e: cma:*,migrate:*,page_isolation:*',
    })
    .option('dmesg', {
      type: 'string',
      nargs: 1,
      describe: 'write the kernel log here, as dmesg prints it (-: stdout, with -o)',
    });

const cli = yargs(hideBin(process.argv));
await cli
  .scriptName('cmascope')
  .usage(
    '$0 [command] [workload]\n\nSimulate the Linux paths that decide whether a CMA allocation succeeds.\nWith no arguments on a terminal: the live TUI on the default workload.',
  )
  .command(
    '$0 [workload]',
    'run a workload (default: the bundled secure-playback) and print a report',
    (y) =>
      headlessOptions(
        y.positional('workload', { type: 'string', describe: 'workload file (.ts)' }),
      ),
    (a) =>
      guarded(() =>
        // `cmascope` alone on a terminal: the live TUI on the default workload
        wantsTui(hideBin(process.argv))
          ? tuiCommand({
              ...a,
              refresh: MAX_REFRESH_HZ,
              speed: '1',
              color: true,
              ascii: false,
              watch: false,
            })
          : runCommand(a),
      ),
  )
  .command(
    'tui [workload]',
    'the live terminal UI (default workload: secure-playback)',
    (y) =>
      tuiOptions(
        y.positional('workload', {
          type: 'string',
          describe: 'workload file (default: secure-playback)',
        }),
      )
        .example('$0 tui mtk-secure-region --speed 10', 'a bundled workload, 10× real time')
        .example(
          '$0 tui w.ts --policy teePin=v2-longterm --kernel 6.4',
          'your workload, patched 6.4',
        ),
    (a) => guarded(() => tuiCommand(a)),
  )
  .command(
    'watch <target>',
    'the live TUI, reloading on every save (a directory: the workload saved last)',
    (y) =>
      tuiOptions(y.positional('target', { type: 'string', demandOption: true }))
        .example('$0 watch w.ts', 'reload the TUI on every save of w.ts or a file it imports')
        .example('$0 watch workloads/', 'follow the workload saved last in a directory'),
    (a) => guarded(() => tuiCommand({ ...a, workload: a.target, watch: true })),
  )
  .command(
    'run [workload]',
    'simulate headless and write snapshots (ndjson, json, csv, prom, openmetrics, text)',
    (y) =>
      headlessOptions(
        y.positional('workload', {
          type: 'string',
          describe: 'workload file or bundled name (default: secure-playback)',
        }),
      )
        .example('$0 run secure-playback -f json -o out.json', 'the final snapshot as JSON')
        .example(
          '$0 run w.ts -f ndjson --interval 100ms',
          'a snapshot every 100 ms of simulated time',
        )
        .example('$0 run w.ts --kernel 6.4 --policy teePin=v2-longterm', 'the v2 patch on 6.4')
        .example("$0 run w.ts --fail-on 'cma_alloc_fail>0'", 'exit 3 when a CMA allocation failed')
        .example('$0 run w.ts --watch', 'run again on every save')
        .example('$0 run w.ts --trace t.txt --dmesg d.txt', 'every trace record, the kernel log')
        .example('$0 run w.ts --serve 9464', 'a live /metrics for Prometheus'),
    (a) => guarded(() => (a.watch ? watchRunCommand : runCommand)(a)),
  )
  .command(
    ['list', 'workloads'],
    'the bundled workloads, by name, with their descriptions',
    (y) => y,
    () => guarded(listCommand),
  )
  .command(
    'check <workload>',
    'load and validate a workload without running it',
    (y) =>
      runOptions(y.positional('workload', { type: 'string', demandOption: true })).example(
        '$0 check w.ts',
        'its name and description, or the first error as file:line:column',
      ),
    (a) =>
      guarded(() =>
        runCommand({
          ...a,
          format: 'text',
          failOn: [],
          check: true,
        }),
      ),
  )
  .command(
    'compare [workload]',
    'run one workload under several kernels and policies, side by side',
    (y) =>
      runOptions(
        y.positional('workload', {
          type: 'string',
          describe: 'workload file (default: secure-playback)',
        }),
      )
        .option('thread', {
          type: 'boolean',
          default: false,
          describe: 'the four positions of the 2023 TEE thread',
        })
        .option('seeds', {
          type: 'string',
          default: '1',
          describe: 'seeds to run each variant with: 1..50, 1,2,5 or 1..3,7',
        })
        .option('shard', {
          type: 'string',
          describe: 'run slice i/n of the runs and print one JSON record per run',
        })
        .option('merge', {
          type: 'string',
          array: true,
          describe: 'join the records of shards and print the table',
        })
        .option('workers', { type: 'string', describe: 'runs at once (default: all cores)' })
        .option('tui', {
          type: 'boolean',
          default: false,
          describe: 'show the variants side by side, live',
        })
        .option('color', {
          type: 'boolean',
          default: true,
          describe: 'colours in --tui (or set NO_COLOR)',
        })
        .option('format', {
          alias: 'f',
          choices: ['text', 'json', 'csv'] as const,
          default: 'text' as const,
        })
        .example('$0 compare --thread', 'the four positions of the 2023 TEE thread')
        .example(
          '$0 compare w.ts --thread --seeds 1..20',
          'each across 20 seeds: n/min/median/p90/max',
        )
        .example(
          '$0 compare --thread --seeds 1..100 --shard 1/4 > s1.jsonl',
          'a quarter of the runs',
        )
        .example('$0 compare --merge s1.jsonl s2.jsonl s3.jsonl s4.jsonl', 'the table of all four'),
    (a) => guarded(() => compareCommand(a)),
  )
  .command(
    'capture',
    "print a read-only sh script that captures a device's memory state (for import)",
    (y) =>
      y
        .option('output', { alias: 'o', type: 'string', describe: 'write the script here' })
        .option('page-owner', {
          type: 'string',
          describe: 'also keep this much of /sys/kernel/debug/page_owner (e.g. 16MiB)',
        })
        .option('trace', {
          type: 'number',
          describe: 'also read trace_pipe for this many seconds (events you enabled)',
        })
        .example('$0 capture -o capture.sh', 'then: adb shell sh -s < capture.sh')
        .example('$0 capture --page-owner 16MiB', 'with the first 16 MiB of page_owner'),
    (a) => guarded(() => captureCommand(a)),
  )
  .command(
    'import <capture>',
    'write a workload that boots a model of a captured device, or --check it',
    (y) =>
      y
        .positional('capture', { type: 'string', demandOption: true })
        .option('output', { alias: 'o', type: 'string', describe: 'write the workload here' })
        .option('check', {
          type: 'boolean',
          default: false,
          describe: 'compare the model booted from the capture with the capture (exit 1: differs)',
        })
        .option('name', { type: 'string', describe: "the workload's name (default: from -o)" })
        .example('$0 import dev.txt -o device.ts', 'then: cmascope run device.ts --set size=64MiB')
        .example(
          '$0 import --check dev.txt',
          'buddyinfo, pagetypeinfo, meminfo, CMA: capture vs model',
        ),
    (a) => guarded(() => importCommand(a)),
  )
  .example('$0 tui --speed 10', 'the live TUI on the default workload, 10× real time')
  .example('$0 run workloads/secure-playback.ts --policy teePin=v2-longterm', 'the v2 patch')
  .example(
    '$0 compare --thread',
    'does FOLL_LONGTERM fix secure playback, and what does accounting cost?',
  )
  .example('$0 run workloads/secure-playback.ts -f prom', 'Prometheus text format')
  .example("$0 run w.ts --fail-on 'cma_alloc_fail>0'", 'exit 3 when a CMA allocation failed')
  .completion('completion', 'print a bash/zsh completion script (source it from your shell rc)')
  .recommendCommands()
  .strict()
  .help()
  .epilogue(
    'Exit codes: 0 ok, 1 runtime error, 2 usage error or invalid workload, 3 --fail-on condition met.',
  )
  .fail((msg, err) => {
    const typed = hideBin(process.argv)[0] ?? '';
    const command = COMMANDS.includes(typed) ? undefined : closest(typed, COMMANDS);
    // an unknown --flag: the closest option of the command it was given to
    const unknown = /^Unknown arguments?: ([\w-]+)/.exec(msg ?? '')?.[1];
    // yargs keeps the options of the command being parsed; its types do not declare getOptions
    const parsed = cli as unknown as { getOptions(): { key: Record<string, unknown> } };
    const options = Object.keys(parsed.getOptions().key).filter((k) => !/[A-Z]/.test(k));
    const flag = unknown && !command ? closest(unknown, options) : undefined;
    const hint = command
      ? ` (did you mean '${command}'?)`
      : flag
        ? ` (did you mean --${flag}?)`
        : '';
    process.stderr.write(
      `cmascope: ${msg ?? err?.message}${hint}\nRun 'cmascope --help' for usage.\n`,
    );
    process.exit(2);
  })
  .parseAsync();
