// The live run's pacing (issue 5 item 5): the simulation runs in its worker, off the render path, and
// the TUI gets at most `refreshHz` frames a second however fast simulated time goes. Drives the
// real Session and worker (from dist/, built by test/global-setup.ts).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { startRun } from '../../src/workload/loader.js';
import type { HostMessage, LiveFrame } from '../../src/workload/protocol.js';
import { Session } from '../../src/workload/session.js';

// an event every simulated millisecond: there is always something new to show
const BUSY = `import { defineWorkload } from 'cmascope';
export default defineWorkload({
  name: 'busy',
  machine: { memory: '64MiB', cma: [{ name: 'svp', size: '16MiB' }] },
  duration: '10h',
  *main(sys) {
    for (;;) yield sys.sleep('1ms');
  },
});
`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Frames received in `ms` of wall time after the first, at `speed` and `refreshHz`. */
async function framesIn(ms: number, speed: number, refreshHz: number): Promise<LiveFrame[]> {
  const dir = mkdtempSync(join(tmpdir(), 'cmascope-live-'));
  const file = join(dir, 'busy.ts');
  writeFileSync(file, BUSY);
  const session = new Session(
    {
      file,
      seed: 1,
      set: {},
      policies: {},
      live: { refreshHz, speed, paused: false, mapCells: 64, traceLines: 10 },
    },
    { watchdogMs: 5000 },
  );
  const frames: LiveFrame[] = [];
  session.on('frame', (f) => frames.push(f));
  session.start();
  try {
    for (let i = 0; i < 100 && frames.length === 0; i++) await sleep(100);
    expect(frames.length, 'no first frame in 10 s').toBeGreaterThan(0);
    const from = frames.length;
    await sleep(ms);
    return frames.slice(from);
  } finally {
    await session.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

it.each([
  [4, 1000],
  [10, Infinity],
])('at most %i frames a second at speed %s, each later in simulated time', async (hz, speed) => {
  const got = await framesIn(2000, speed, hz);
  expect(got.length).toBeLessThanOrEqual(2 * hz + 1);
  expect(got.length).toBeGreaterThanOrEqual(2); // frames keep coming
  for (let i = 1; i < got.length; i++)
    expect(got[i]!.snapshot.simTimeNs).toBeGreaterThan(got[i - 1]!.snapshot.simTimeNs);
});

/** A live run of `source` (startRun, as the TUI's Session does). */
function live(
  source: string,
  paused: boolean,
  watchdogMs: number,
  onMessage?: (m: HostMessage) => void,
) {
  const dir = mkdtempSync(join(tmpdir(), 'cmascope-live-'));
  const file = join(dir, 'w.ts');
  writeFileSync(file, source);
  const run = startRun(
    {
      file,
      seed: 1,
      set: {},
      policies: {},
      live: { refreshHz: 10, speed: Infinity, paused, mapCells: 16, traceLines: 4 },
    },
    onMessage ? { watchdogMs, onMessage } : { watchdogMs },
  );
  return {
    run: Object.assign(run, { file }),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

it('reports a deadlock in a live run', async () => {
  const { run, cleanup } = live(
    BUSY.replace(
      "for (;;) yield sys.sleep('1ms');",
      "yield sys.sleep('1s');\n    yield sys.wait(sys.pid);",
    ),
    false,
    5000,
  );
  try {
    const o = await run.done;
    expect(o.ok ? 'finished' : o.error.message).toBe(
      "deadlock at t=1.000s: 'busy'[100] waits for itself",
    );
  } finally {
    cleanup();
  }
});

it('a paused live run is never stopped by the watchdog', async () => {
  const { run, cleanup } = live(BUSY, true, 500);
  let outcome = 'going on';
  void run.done.then((o) => {
    outcome = o.ok ? 'finished' : o.error.message;
  });
  try {
    await sleep(2500);
    expect(outcome).toBe('going on');
  } finally {
    await run.stop();
    cleanup();
  }
});

/** Sleeps past its duration: the run ends at 10 s with an event still pending at 20 s. */
const PAST_END = BUSY.replace("duration: '10h'", "duration: '10s'").replace(
  "for (;;) yield sys.sleep('1ms');",
  "yield sys.sleep('9500ms');\n    sys.record('late', true);\n    yield sys.sleep('10500ms');",
);

it.each([
  ['> when no failure is left', true],
  ['running at max speed', false],
])(
  'the last frame of a finished live run is the final snapshot: %s (issue #14 item 6)',
  async (_, paused) => {
    const frames: LiveFrame[] = [];
    const { run, cleanup } = live(PAST_END, paused, 5000, (m) => {
      if (m.type === 'frame') frames.push(m.frame);
    });
    try {
      for (let i = 0; i < 100 && frames.length === 0; i++) await sleep(50); // as the TUI does
      if (paused) run.control({ type: 'toFailure' });
      for (let i = 0; i < 100 && !frames.at(-1)?.finished; i++) await sleep(50);
      const headless = await startRun({ file: run.file, seed: 1, set: {}, policies: {} }).done;
      expect(headless.ok && headless.final.simTimeNs).toBe(10e9);
      expect(frames.at(-1)?.finished).toBe(true);
      expect(frames.at(-1)!.snapshot.simTimeNs).toBe(10e9);
    } finally {
      await run.stop();
      cleanup();
    }
  },
);

it('. runs one event and says which: the actor, its system calls and what they returned (issue #14 item 6)', async () => {
  const frames: LiveFrame[] = [];
  const { run, cleanup } = live(
    BUSY.replace(
      "for (;;) yield sys.sleep('1ms');",
      "yield sys.sleep('1s');\n    yield* sys.mmapAnon('1MiB');\n    yield* sys.mmapAnon('1TiB');\n    yield sys.sleep('1s');",
    ),
    true,
    5000,
    (m) => {
      if (m.type === 'frame') frames.push(m.frame);
    },
  );
  const steps: string[] = [];
  try {
    for (let i = 0; i < 100 && frames.length === 0; i++) await sleep(50);
    for (let n = 0; n < 3; n++) {
      const before = frames.length;
      run.control({ type: 'step' });
      for (let i = 0; i < 100 && !frames.slice(before).some((f) => f.step); i++) await sleep(20);
      steps.push(frames.slice(before).find((f) => f.step)?.step ?? '(no step)');
    }
    expect(steps).toEqual([
      'event 1 at 0.000000 s: busy[100] ran, no system call', // then it sleeps
      'event 2 at 1.000000 s: busy[100] mmap → ok, mmap → ENOMEM',
      'event 3 at 2.000000 s: busy[100] ran, no system call', // and ends
    ]);
  } finally {
    await run.stop();
    cleanup();
  }
});
