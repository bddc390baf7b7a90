// The keys of issue 5 item 3 on the whole app, driven through ink-testing-library with a fake
// Session: what the screen shows and what the session is asked to do.
import { render } from 'ink-testing-library';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { App } from '../../src/tui/app.js';
import type { LiveFrame } from '../../src/workload/protocol.js';
import { FakeSession, frame, KEYS, mono, strip, tick } from './helpers.js';

const SIZE = { columns: 100, rows: 40 };
let cleanup: (() => void) | undefined;
afterEach(() => {
  cleanup?.();
  cleanup = undefined;
});

/** The app on a fake session that has published `f` (running, not paused, by default). */
async function start(f: LiveFrame = { ...frame('upstream-failure'), paused: false }, speed = 1) {
  const session = new FakeSession();
  const app = render(
    <App
      session={session}
      theme={mono}
      speed={speed}
      basePolicies={{ placement: 'shuffled' }}
      size={SIZE}
      cwd="/work/main"
    />,
  );
  cleanup = app.unmount;
  await tick();
  session.emit('started', { workload: 'secure-playback', description: '', reason: 'start' });
  session.emit('frame', f);
  await tick();
  const screen = () => strip(app.lastFrame());
  const press = async (...keys: string[]) => {
    for (const k of keys) {
      app.stdin.write(k);
      await tick();
    }
  };
  return { session, app, screen, press };
}

describe('keys', () => {
  test('? opens the help, j/k scroll it, any other key closes it', async () => {
    const { screen, press, session } = await start();
    expect(screen()).not.toContain('Keys');
    await press('?');
    // a loaded machine may take more than a tick to draw
    await vi.waitFor(() => expect(screen()).toContain('pause / resume'));
    expect(screen()).toContain('Help');
    await press('j', KEYS.down, 'k'); // scrolls, does not close
    expect(screen()).toContain('Help');
    await press(' '); // closes the help, does nothing else
    await vi.waitFor(() => expect(screen()).not.toContain('pause / resume'));
    expect(session.controls).toEqual([]);
  });

  test("the workload's description: in the hint line until the first key, and atop the help (issue #14 item 9)", async () => {
    const { session, screen, press } = await start();
    const description = 'A TEE client keeps 64 MiB registered while the player allocates';
    session.emit('started', { workload: 'secure-playback', description, reason: 'start' });
    await tick();
    // with the way to the keys kept at the end
    expect(screen().split('\n').at(-1)).toBe(`secure-playback: ${description}  ? help`);
    await press('?');
    expect(screen()).toContain(`secure-playback  ${description}`);
    await press('q');
  });

  test('space pauses and resumes; . steps one event; > runs to the next failure', async () => {
    const { press, session, screen } = await start();
    await press(' ');
    expect(session.controls).toEqual([{ type: 'pause', paused: true }]);
    session.emit('frame', { ...frame('upstream-failure'), paused: true, events: 77 });
    await tick();
    expect(screen()).toContain('⏸ PAUSED');
    await press(' ', '.', '>');
    expect(session.controls.slice(1)).toEqual([
      { type: 'pause', paused: false },
      { type: 'step' },
      { type: 'toFailure' },
    ]);
    expect(screen()).toContain('running to the next failure');
  });

  test('enter on a process opens its detail, and the worker is asked for it; esc closes it (issue #14 item 10)', async () => {
    const { press, session, screen } = await start();
    await press(KEYS.tab, KEYS.down, KEYS.down, KEYS.enter); // processes, third row: drm-client
    expect(session.controls).toEqual([{ type: 'inspect', pid: 102 }]);
    expect(screen()).toContain('Process details');
    expect(screen()).toContain('tee_shm        1    16384  short-term     8255');
    await press(KEYS.escape);
    expect(session.controls.at(-1)).toEqual({ type: 'inspect', pid: null });
    expect(screen()).not.toContain('Process details');
  });

  test('> selects the failure it stopped at and focuses the failures', async () => {
    const empty = frame('v2-finished');
    const { press, session, screen } = await start({ ...empty, finished: false });
    await press('>');
    session.emit('frame', frame('upstream-failure'));
    await tick();
    expect(screen()).toContain('paused at the next failure: enter for details');
    expect(screen()).toContain('▶ Failures (2)');
    expect(screen()).toContain('▶ t=5.902s cma_alloc svp 51200 pages EBUSY');
  });

  test('+ and - step the speed from 0.1× to max', async () => {
    const { press, session, screen } = await start();
    await press('+');
    expect(session.controls).toEqual([{ type: 'speed', speed: 2 }]);
    expect(screen()).toContain('│ 2× │');
    await press('-', '-', '-', '-', '-', '-');
    expect(session.controls.map((c) => (c.type === 'speed' ? c.speed : c.type))).toEqual([
      2, 1, 0.5, 0.25, 0.1, 0.1, 0.1,
    ]);
    expect(screen()).toContain('│ 0.1× │');
    await press(...'++++++++++'.split(''));
    expect(session.controls.at(-1)).toEqual({ type: 'speed', speed: Infinity });
    expect(screen()).toContain('│ max │');
  });

  test('s sorts by the next column, S reverses', async () => {
    const { press, screen } = await start();
    const order = () =>
      screen()
        .split('\n')
        .map((l) => /│\s+\d+ (\S+)/.exec(l)?.[1])
        .filter(
          (x): x is string =>
            x !== undefined && ['apps', 'drm-client', 'mediaserver', 'secure-playback'].includes(x),
        );
    expect(order()).toEqual(['secure-playback', 'apps', 'drm-client', 'mediaserver']); // by pid
    await press('s');
    expect(screen()).toContain('COMM▲');
    expect(order()).toEqual(['apps', 'drm-client', 'mediaserver', 'secure-playback']);
    await press('S');
    expect(screen()).toContain('COMM▼');
    expect(order()).toEqual(['secure-playback', 'mediaserver', 'drm-client', 'apps']);
    await press('s', 's'); // uid, then RSS (largest first)
    expect(screen()).toContain('RSS▼');
    expect(order()[0]).toBe('apps');
  });

  test('/ filters the processes: type, enter applies, esc clears', async () => {
    const { press, screen } = await start();
    await press('/', 'd', 'r', 'm');
    expect(screen()).toContain('/ filter processes: drm');
    await press(KEYS.enter);
    expect(screen()).toContain('Processes (1 of 4)');
    expect(screen()).toContain('filter "drm"');
    expect(screen()).not.toContain('mediaserver    ');
    await press('/', KEYS.escape);
    expect(screen()).toContain('Processes (4)');
    // q while typing is text, not quit
    await press('/', 'q', KEYS.backspace, 'a', 'p', 'p', KEYS.enter);
    expect(screen()).toContain('Processes (1 of 4)');
    expect(screen()).toContain('filter "app"');
  });

  test('tab moves the focus between panels, shift-tab back', async () => {
    const { press, screen } = await start();
    expect(screen()).toContain('▶ CMA');
    await press(KEYS.tab);
    expect(screen()).toContain('▶ Processes');
    expect(screen()).not.toContain('▶ CMA');
    await press(KEYS.tab, KEYS.tab);
    expect(screen()).toContain('▶ Trace');
    await press(KEYS.shiftTab);
    expect(screen()).toContain('▶ Failures');
  });

  test('keys that arrive together are each handled: tabs, a shift-tab, a return (issue #14 item 7)', async () => {
    const { press, screen } = await start();
    await press('\t\t'); // one read of two tabs, as `tmux send-keys Tab Tab` delivers them
    expect(screen()).toContain('▶ Failures');
    await press('\t\t\u001b[Z'); // on round to CMA, then an escape sequence: shift-tab
    expect(screen()).toContain('▶ Trace');
    await press('\t\t\t\r');
    expect(screen()).toContain('Failure details');
  });

  test('enter opens the drill-down on the blamed failure, esc goes back', async () => {
    const { press, screen } = await start();
    await press(KEYS.enter);
    expect(screen()).toContain('Failure details');
    expect(screen()).toContain(
      '0x39000       36864  s pinned short   drm-client[102] via tee_shm id 1',
    );
    await press(KEYS.down);
    expect(screen()).toContain('Failure 2 of 2  t=5.902s  dma_heap_alloc  ENOMEM');
    await press(KEYS.escape);
    expect(screen()).not.toContain('Failure details');
    expect(screen()).toContain('▶ Failures (2)');
  });

  test('p restarts with the next preset of the 2023 thread, same seed', async () => {
    const { press, session, screen } = await start();
    await press('p');
    expect(session.restarts).toEqual([
      { policies: { placement: 'shuffled', teePin: 'v1-cma-ifdef', teeAccounting: 'none' } },
    ]);
    expect(screen()).toContain('restarting under preset 2/4 v1-cma-ifdef (same seed, t = 0)');
    await press('p', 'p', 'p');
    expect(
      session.restarts.map((r) => `${r.policies?.teePin}/${r.policies?.teeAccounting}`),
    ).toEqual(['v1-cma-ifdef/none', 'v2-longterm/none', 'v2-longterm/io_uring', 'upstream/none']);
    session.emit('started', { workload: 'secure-playback', description: '', reason: 'restart' });
    session.emit('frame', frame('v2-finished'));
    await tick();
    expect(screen()).toContain('restarted at t = 0 under preset upstream');
    expect(screen()).toContain('playback_start=ok');
  });

  test('a failed restart shows file:line:column and the code frame; the last frame stays', async () => {
    const { session, screen } = await start();
    session.emit(
      'error',
      {
        phase: 'load',
        message: "TypeError: Cannot read properties of undefined (reading 'x')",
        location: { file: '/work/main/workloads/secure-playback.ts', line: 40, column: 9 },
        frame: '  40 |     p.boom.x;\n     |         ^',
      },
      { stopped: false },
    );
    await tick();
    const out = screen();
    expect(out).toContain(
      "workloads/secure-playback.ts:40:9: TypeError: Cannot read properties of undefined (reading 'x')",
    );
    expect(out).toContain('  40 |     p.boom.x;');
    expect(out).toContain('ERROR');
    expect(out).toContain('pfn 0x39000 → drm-client[102] → tee_shm id 1'); // still the last good frame
    session.emit('started', { workload: 'secure-playback', description: '', reason: 'reload' });
    await tick();
    expect(screen()).not.toContain('Cannot read properties');
  });

  test('an error that stops the run on screen says so: STOPPED, not RUNNING (issue #14 item 5)', async () => {
    const { session, screen } = await start();
    const error = {
      phase: 'run' as const,
      message: "UnitError: invalid mapping size '16 MiBs'",
      location: { file: '/work/main/workloads/secure-playback.ts', line: 40, column: 9 },
    };
    session.emit('error', error, { stopped: true });
    await tick();
    expect(screen()).toContain('ERROR ■ STOPPED');
    expect(screen()).toContain('the run above stopped here, as it was at the error');
    expect(screen()).not.toContain('keeps going');
    // a new attempt that fails while the run on screen goes on: that run is still running
    session.emit('started', { workload: 'secure-playback', description: '', reason: 'reload' });
    session.emit('error', error, { stopped: false });
    session.emit('frame', { ...frame('upstream-failure'), paused: false, events: 99 });
    await tick();
    expect(screen()).toContain('ERROR ▶ RUNNING');
    expect(screen()).toContain('the last good run keeps going above');
  });

  test('an unchanged frame does not render again', async () => {
    const { session, app } = await start();
    const before = app.frames.length;
    session.emit('frame', { ...frame('upstream-failure'), paused: false });
    await tick();
    expect(app.frames.length).toBe(before);
  });
});
