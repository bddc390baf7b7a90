// The real binary in a real pseudo-terminal (tmux): the story of issue 5 — the secure buffer fails
// under upstream, the blame names the TEE registration, the drill-down shows the page, p goes to
// v2 and playback starts — then the terminal is given back after q, Ctrl-C and SIGTERM; the layout
// follows resizes; NO_COLOR and --ascii leave no colour and no other glyphs. The test
// runner has CI=true; only the app gets CI=false (Ink prints just the last frame in CI mode).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SOCKET = `cmascope-e2e-${process.pid}`;
const tmux = (...args: string[]): string =>
  execFileSync('tmux', ['-L', SOCKET, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'], // tmux's complaints go into the error, not the log
  });
const screen = () => tmux('capture-pane', '-p', '-t', 'e2e');
/** The screen with its SGR sequences (colours, bold, inverse). */
const styledScreen = () => tmux('capture-pane', '-p', '-e', '-t', 'e2e');
const show = (fmt: string) => tmux('display-message', '-p', '-t', 'e2e', fmt).trim();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll the screen until `ok` holds; fail with the screen after `ms`. */
async function until(what: string, ok: (s: string) => boolean, ms = 15_000): Promise<string> {
  const end = Date.now() + ms;
  let s = '';
  while (Date.now() < end) {
    s = screen();
    if (ok(s)) return s;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}; the screen:\n${s}`);
}
const shows = (text: string) => (s: string) => s.includes(text);

const press = (...keys: string[]) => tmux('send-keys', '-t', 'e2e', ...keys);
const type = (line: string) => tmux('send-keys', '-t', 'e2e', '-l', line);

/** Start the TUI from the pane's shell (with `env` before it) and wait for its first frame. */
async function launch(args = 'tui', env = ''): Promise<string> {
  type(`${env ? `${env} ` : ''}CI=false node bin/cmascope.js ${args}`);
  press('Enter');
  return until('the first frame', (s) => /t=\d+\.\d{3}s/.test(s) && s.includes('Processes ('));
}

/** The shell answers again, and the terminal is in cooked mode with echo (raw mode undone). */
async function shellIsBack(code: number): Promise<void> {
  await until('the main screen', () => show('#{alternate_on}') === '0', 5000);
  expect(show('#{cursor_flag}')).toBe('1');
  // the screen comes back before the process ends (it still closes its server and worker): what
  // is typed before the shell reads the terminal again would go to cmascope
  await until('cmascope to exit', () => show('#{pane_current_command}') !== 'node', 10_000);
  type('echo "exit=$?"; stty -a | tr " " "\\n" | grep -x -e icanon -e echo | tr "\\n" " "; echo');
  press('Enter');
  const s = await until(
    'the shell',
    (x) => x.includes(`exit=${code}`) && /^#|\$/m.test(x.split(`exit=${code}`)[1] ?? ''),
    5000,
  );
  expect(s, s).toContain('icanon echo');
  type('clear');
  press('Enter');
  await sleep(200);
}

// A session that outlives the tests' own: killing the last session of a server shuts the server
// down, and a new session started meanwhile fails with "server exited unexpectedly".
beforeAll(() => {
  tmux('new-session', '-d', '-s', 'keep', 'sh');
});

beforeEach(() => {
  // a fresh session per test: a plain POSIX shell (no readline touching the terminal modes)
  try {
    tmux('kill-session', '-t', 'e2e'); // and the app a failed test left running in it
  } catch {
    // none yet
  }
  tmux('new-session', '-d', '-s', 'e2e', '-x', '120', '-y', '40', '-c', ROOT, 'sh');
});

afterAll(() => {
  try {
    tmux('kill-server');
  } catch {
    // the server is gone already
  }
});

describe('the TUI in a terminal', () => {
  test('upstream fails with blame on the TEE registration; p to v2 and playback starts; q restores', async () => {
    let s = await launch();
    expect(show('#{alternate_on}')).toBe('1');
    expect(s).toMatch(/^secure-playback │ 6\.18 teePin=upstream teeAccounting=none │ seed 1/);
    for (const panel of ['CMA', 'Processes (4)', 'Failures', 'Trace', '· free '])
      expect(s).toContain(panel);

    press('>'); // run to the next failure, then pause there
    s = await until('the failure', shows('pfn 0x39000 → drm-client[102] → tee_shm id 1'));
    expect(s).toContain('playback_start=ENOMEM');
    expect(s).toContain('⏸ PAUSED');
    expect(s).toContain('t=5.902s');
    press('Enter');
    s = await until('the drill-down', shows('Failure details'));
    expect(s).toContain('0x39000       36864  s pinned short   drm-client[102] via tee_shm id 1');
    press('Escape');
    s = await until('the drill-down to close', (x) => !x.includes('Failure details'));
    expect(s).toContain('▶ Failures');
    press('.'); // one event, and the hint line says which
    await until(
      'the step',
      shows('event 77 at 6.222720 s: apps[101] mmap → ok, touch (in the kernel)'),
    );
    press('Tab', 'Tab', 'Tab'); // Failures → Trace → CMA → Processes
    press('j', 'j', 'Enter'); // drm-client's detail
    s = await until('the process detail', shows('Pins  1 holder, 16384 pages, 8255 in CMA'));
    expect(s).toContain('tee_shm        1    16384  short-term     8255');
    press('Escape');
    await until('the detail to close', (x) => !x.includes('Process details'));
    press('Tab', 'Tab', 'Tab'); // one read of all three: each moves the focus (Processes → Failures → Trace → CMA): each moves the focus (Failures → Trace → CMA)
    await until('the focus two panels on', shows('▶ CMA'));

    press('?');
    await until('the help', shows('pause / resume'));
    press('?');
    await until('the help to close', (x) => !x.includes('pause / resume'));

    press('+', '+', '+', '+'); // 10×
    press('p', 'p'); // upstream → v1-cma-ifdef → v2-longterm, restarted with the same seed
    s = await until('v2', shows('teePin=v2-longterm'));
    expect(s).toContain('⏸ PAUSED'); // the new run starts paused, as the old one was
    press('Space');
    s = await until('playback', shows('playback_start=ok'));
    expect(s).toContain('Failures (0)');

    press('q');
    await shellIsBack(0);
  });

  test('--serve: /metrics shows the frame on screen, and follows a restart', async () => {
    const free = createServer();
    await new Promise<void>((r) => free.listen(0, '127.0.0.1', r));
    const { port } = free.address() as AddressInfo;
    await new Promise((r) => free.close(r));
    await launch(`tui --serve ${port}`);
    const metrics = async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const sample = (text: string, name: string) =>
      text.split('\n').find((l) => l.startsWith(`${name} `));
    press('>'); // run to the next failure, then pause there
    await until('the failure', shows('t=5.902s'));
    const m = await metrics();
    expect(sample(m, 'cmascope_sim_time_seconds')).toMatch(/^cmascope_sim_time_seconds 5\.902\d*$/);
    expect(sample(m, 'cmascope_vmstat_cma_alloc_fail_total')).toBe(
      'cmascope_vmstat_cma_alloc_fail_total 1',
    );
    expect(m).toContain('tee_pin="upstream"');
    press('p'); // a new run under the next policy: the endpoint serves it once it shows
    await until('v1', shows('teePin=v1-cma-ifdef'));
    expect(await metrics()).toContain('tee_pin="v1-cma-ifdef"');
    press('q');
    await shellIsBack(0);
  });

  test('cmascope with no arguments on a terminal opens the TUI; Ctrl-C quits and restores', async () => {
    const s = await launch('');
    expect(s).toMatch(/^secure-playback │/);
    press('C-c');
    await shellIsBack(0);
  });

  test('SIGTERM restores the terminal and exits 143', async () => {
    await launch();
    const shell = Number(show('#{pane_pid}'));
    const node = readFileSync(`/proc/${shell}/task/${shell}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number)[0]!;
    expect(readFileSync(`/proc/${node}/cmdline`, 'utf8')).toContain('bin/cmascope.js');
    process.kill(node, 'SIGTERM');
    await shellIsBack(143);
  });

  test('the layout follows the terminal: wider, a notice below 80×24, and back', async () => {
    let s = await launch();
    expect(s.split('\n')[1]).toHaveLength(120); // the CMA panel's top border spans the width
    tmux('resize-window', '-t', 'e2e', '-x', '200', '-y', '50');
    s = await until('200 columns', (x) => x.split('\n')[1]?.length === 200);
    expect(s).toMatch(/^secure-playback │ .* t=\d+\.\d{3}s │ 1× │ ▶ RUNNING$/m);
    tmux('resize-window', '-t', 'e2e', '-x', '70', '-y', '20');
    s = await until('the notice', shows('Terminal 70×20 is smaller than 80×24'));
    tmux('resize-window', '-t', 'e2e', '-x', '100', '-y', '30');
    s = await until('100×30', (x) => x.includes('Processes (') && !x.includes('smaller than'));
    const rows = s.replace(/\n+$/, '').split('\n');
    // the screen but its last row: Ink 6 clears the terminal for a frame as tall as it (layout.ts)
    expect(rows).toHaveLength(29);
    // no key pressed yet: the workload's description, and the way to the keys
    expect(rows[28]).toMatch(
      /^secure-playback: A TEE client keeps 64 MiB registered .*… {2}\? help$/,
    );
    expect(Math.max(...rows.map((r) => r.length))).toBe(100);
    press('q');
    await shellIsBack(0);
  });

  test('NO_COLOR and --ascii: no colour and only ASCII on screen, states still told apart', async () => {
    await launch('tui --ascii', 'NO_COLOR=1');
    const s = await until('the pinned pages on the map', (x) => / s pinned short [1-9]/.test(x));
    expect(s).toMatch(/^[\x20-\x7e\n]*$/);
    expect(s).toMatch(/\+ movable \d+ {2}s pinned short \d+ {2}L pinned long \d+ {2}i isolated/);
    // every SGR sequence tmux reports: attributes (bold, dim, underline) and resets, no colour
    const params = styledScreen()
      .split('\u001b[')
      .slice(1)
      .flatMap((seq) => (/^([0-9;]*)m/.exec(seq)?.[1] ?? '').split(';').map(Number));
    expect(params.length).toBeGreaterThan(0);
    const colours = params.filter((n) => (n >= 30 && n <= 38) || (n >= 40 && n <= 48) || n >= 90);
    expect(colours).toEqual([]);
    press('q');
    await shellIsBack(0);
  });

  test('watch: a save reloads, a broken save shows its error and keeps the run, the fix clears it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cmascope-watch-e2e-'));
    const file = join(dir, 'w.ts');
    const source = readFileSync(join(ROOT, 'workloads/secure-playback.ts'), 'utf8');
    writeFileSync(file, source);
    await launch(`watch ${file} --speed 10`);
    let s = await until('the first run', (x) => /drm-client +R +1000 +64M/.test(x));
    writeFileSync(file, source.replace('shmMiB: 64,', 'shmMiB: 8,'));
    s = await until('the reload', (x) => /drm-client +R +1000 +8\.0M/.test(x));
    writeFileSync(file, source.replace('shmMiB: 64,', 'shmMiB: ,'));
    s = await until('the error', shows('Error loading the workload'));
    expect(s).toContain('w.ts:28:13: Unexpected ","');
    expect(s).toMatch(/drm-client +R +1000 +8\.0M/); // the last good run goes on
    writeFileSync(file, source.replace('shmMiB: 64,', 'shmMiB: 16,'));
    s = await until(
      'the fix',
      (x) => /drm-client +R +1000 +16M/.test(x) && !x.includes('Error loading'),
    );
    press('q');
    await shellIsBack(0);
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);
});
