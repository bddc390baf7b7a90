// The TUI's cost (issue 5 item 5). tui_frame_ms: one frame of the whole screen at 200×50 — React,
// Yoga layout and Ink's output — rendered into a fake 200-column stdout from frames captured from
// the default workload, median of 50. tui_cpu_pct: the real binary (`node bin/cmascope.js tui`)
// in a tmux pseudo-terminal for 10 s at 1× on the default workload: CPU time of the process (all
// its threads, the simulation worker included) over wall time.
import { execFileSync, spawnSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { render } from 'ink';
import { createElement } from 'react';
import { Screen } from '../src/tui/app.js';
import { initialModel, type Model, reduceModel } from '../src/tui/model.js';
import { makeTheme } from '../src/tui/theme.js';
import { initialUi } from '../src/tui/ui-state.js';
import type { LiveFrame } from '../src/workload/protocol.js';
import { type Bench, type Figure, log, median, repoRoot, round } from './figure.js';

const COLUMNS = 200;
const ROWS = 50;
const FRAMES = 50;
const CPU_SECONDS = 10;

class FakeStdout extends EventEmitter {
  columns = COLUMNS;
  rows = ROWS;
  bytes = 0;
  write(s: string): boolean {
    this.bytes += s.length;
    return true;
  }
}

/** A model with a full history, as after a minute on screen, ending at `f`. */
function model(f: LiveFrame): Model {
  let m = reduceModel(initialModel(), {
    type: 'started',
    workload: f.snapshot.workload,
    description: '',
    reason: 'start',
  });
  const free = f.snapshot.cma.svp?.pages_by_state.free ?? 0;
  for (let i = 0; i < 600; i++) {
    const g = structuredClone(f);
    // before f's time: an earlier time would start a new history (model.ts addSample)
    g.snapshot.simTimeNs = Math.round((f.snapshot.simTimeNs * i) / 600);
    for (const a of Object.values(g.snapshot.cma))
      a.pages_by_state.free = Math.round(free * (0.5 + 0.5 * Math.sin(i / 20)));
    m = reduceModel(m, { type: 'frame', frame: g });
  }
  return reduceModel(m, { type: 'frame', frame: f });
}

function frameMs(root: string): number {
  const load = (n: string) =>
    JSON.parse(readFileSync(join(root, 'test/tui/fixtures', `${n}.json`), 'utf8')) as LiveFrame;
  const models = [model(load('upstream-failure')), model(load('v2-finished'))];
  const theme = makeTheme({ color: true, ascii: false });
  const ui = initialUi(1);
  const stdout = new FakeStdout();
  const stdin = Object.assign(new EventEmitter(), {
    isTTY: false,
    setRawMode() {},
    ref() {},
    unref() {},
    read: () => null,
  });
  const el = (m: Model) =>
    createElement(Screen, {
      model: m,
      ui,
      size: { columns: COLUMNS, rows: ROWS },
      theme,
      cwd: root,
    });
  // debug: every commit renders and writes at once, so rerender() times the whole frame
  const ink = render(el(models[0]!), {
    stdout: stdout as never,
    stdin: stdin as never,
    debug: true,
    patchConsole: false,
    exitOnCtrlC: false,
  });
  const times: number[] = [];
  for (let i = 0; i < FRAMES + 10; i++) {
    const t0 = performance.now();
    ink.rerender(el(models[i % 2]!));
    if (i >= 10) times.push(performance.now() - t0); // after warm-up
  }
  ink.unmount();
  log(
    `  ${FRAMES} frames at ${COLUMNS}×${ROWS}, ${Math.round(stdout.bytes / (FRAMES + 11))} characters each`,
  );
  return median(times);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** utime + stime of a process, in clock ticks (/proc/<pid>/stat fields 14 and 15). */
function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

async function cpuPct(root: string): Promise<number> {
  if (!existsSync('/usr/bin/tmux') && spawnSync('tmux', ['-V']).status !== 0)
    throw new Error('tmux is not installed');
  // bench/run.mjs has built dist/
  if (!existsSync(join(root, 'dist/cli/main.js')))
    throw new Error('dist/ is missing: npm run build');
  const sock = `cmascope-bench-${process.pid}`;
  const tmux = (...args: string[]) =>
    execFileSync('tmux', ['-L', sock, ...args], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
  const hz = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' })) || 100;
  try {
    tmux(
      'new-session',
      '-d',
      '-s',
      'bench',
      '-x',
      '120',
      '-y',
      '40',
      '-c',
      root,
      'exec env CI=false node bin/cmascope.js tui',
    );
    const pid = Number(tmux('list-panes', '-t', 'bench', '-F', '#{pane_pid}').trim());
    // wait for the first frame: the status line shows the simulated time
    for (let i = 0; i < 100 && !/t=\d/.test(tmux('capture-pane', '-p', '-t', 'bench')); i++)
      await sleep(100);
    await sleep(1000); // start-up is not the steady state
    const c0 = cpuTicks(pid);
    const t0 = performance.now();
    await sleep(CPU_SECONDS * 1000);
    const c1 = cpuTicks(pid);
    const wall = (performance.now() - t0) / 1000;
    const screen = tmux('capture-pane', '-p', '-t', 'bench');
    log(`  ${screen.split('\n')[0]?.trim()}`);
    tmux('send-keys', '-t', 'bench', 'q');
    await sleep(500);
    return ((c1 - c0) / hz / wall) * 100;
  } finally {
    try {
      tmux('kill-server');
    } catch {
      // already gone with its last session
    }
  }
}

export const tuiBench: Bench = {
  id: 'tui',
  title: 'the TUI: one frame at 200×50, and the process CPU at 1×',
  async figures(): Promise<Figure[]> {
    const root = repoRoot();
    const ms = frameMs(root);
    if (process.env.TUI_FRAME_ONLY)
      return [{ name: 'tui_frame_ms', value: round(ms, 2), unit: 'ms', target: '<= 16' }];
    const cpu = await cpuPct(root);
    return [
      { name: 'tui_frame_ms', value: round(ms, 2), unit: 'ms', target: '<= 16' },
      { name: 'tui_cpu_pct', value: round(cpu, 1), unit: '%', target: '<= 15' },
    ];
  },
};
