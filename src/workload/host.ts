// The worker that runs one workload: import its bundle (made by the main thread, bundle.ts),
// simulate, and post snapshots to the main thread. A fresh worker per run (or reload) throws away the whole module
// graph; terminate() stops a runaway workload.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parentPort } from 'node:worker_threads';
import { MLOCK_LIMIT } from '../kernel/config.js';
import { procDetail } from '../metrics/proc-detail.js';
import { MAX_LIST, type RunInfo, snapshot } from '../metrics/snapshot.js';
import { view } from '../metrics/view.js';
import { Realtime } from '../sim/realtime.js';
import { parseDuration } from '../sim/units.js';
import { System } from './api.js';
import {
  checkMachine,
  checkWorkload,
  DEFINED_AT,
  type LoadedWorkload,
  type Params,
  parseParam,
} from './define.js';
import { installDeterminismGuards } from './determinism.js';
import { locate, locateQuoted, workloadError } from './errors.js';
import type { ControlMessage, HostMessage, LiveOptions, Start } from './protocol.js';
import { Simulation } from './runtime.js';
import { spool } from './spool.js';
import { Heartbeat } from './watchdog.js';

/** Without a duration or --until, a run stops here even if actors are still sleeping. */
const DEFAULT_LIMIT_NS = 24 * 3600e9;
/** A paused live run checks its clock this often (control messages wake it at once). */
const PAUSED_MS = 1000;
/** Wall time a live slice may take before control messages get a turn. */
const SLICE_MS = 30;

/** `transfer`: buffers handed over with the message (no longer usable here), not copied */
const post = (m: HostMessage, transfer?: ArrayBuffer[]) => parentPort!.postMessage(m, transfer);

/** Import the bundle from a temporary file so that stack traces map back through its source map. */
async function importBundle(code: string): Promise<unknown> {
  const dir = mkdtempSync(join(tmpdir(), 'cmascope-'));
  const path = join(dir, 'workload.mjs');
  writeFileSync(path, code, 'utf8');
  try {
    const mod = (await import(pathToFileURL(path).href)) as { default?: unknown };
    return mod.default;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main({ req, bundle, beats }: Start): Promise<void> {
  process.setSourceMapsEnabled(true);
  const heartbeat = new Heartbeat(beats);
  heartbeat.watch(true); // the workload's top-level code runs when its bundle is imported
  const file = req.file;
  const { code, inputs } = bundle;
  let def: LoadedWorkload;
  let sim: Simulation;
  let params: Params;
  let exported: unknown;
  installDeterminismGuards();
  try {
    exported = await importBundle(code);
  } catch (e) {
    post({ type: 'error', error: workloadError('load', e, file) });
    return;
  }
  // Mistakes in the definition itself (a bad machine, unit or policy) are thrown by cmascope's
  // code, not the workload's: point at the offending value's line, else at defineWorkload().
  const definedAt = locate(
    { stack: (exported as { [DEFINED_AT]?: string } | null)?.[DEFINED_AT] ?? '' },
    file,
  );
  const inDefinition = (e: unknown) =>
    workloadError('load', e, file, locateQuoted(e, file) ?? definedAt);
  try {
    def = checkWorkload(exported);
  } catch (e) {
    post({ type: 'error', error: inDefinition(e) });
    return;
  }
  try {
    params = { ...(def.params ?? {}) };
    for (const [key, raw] of Object.entries(req.set))
      params[key] = parseParam(def.params ?? {}, key, raw);
  } catch (e) {
    post({ type: 'error', error: workloadError('load', e, '') }); // --set: a usage error
    return;
  }
  try {
    const { version, ...policies } = def.kernel ?? {};
    const machine =
      typeof def.machine === 'function' ? checkMachine(def.machine(params)) : def.machine;
    sim = new Simulation(
      {
        machine,
        version: req.version ?? version ?? '6.18',
        policies: { ...policies, ...req.policies },
        seed: req.seed,
      },
      heartbeat,
    );
  } catch (e) {
    post({ type: 'error', error: inDefinition(e) });
    return;
  }
  const run = { workload: def.name, seed: req.seed, results: sim.results, logs: sim.logs };
  let limit: number;
  try {
    limit =
      req.untilNs ??
      (def.duration === undefined
        ? DEFAULT_LIMIT_NS
        : parseDuration(def.duration, 'workload duration'));
  } catch (e) {
    post({ type: 'error', error: inDefinition(e) });
    return;
  }
  const main = def.main;
  // checkWorkload made sure that main is a generator function
  sim.spawn(def.name, { uid: 0, capIpcLock: true, memlock: MLOCK_LIMIT }, (t) =>
    main(new System(sim, t), params),
  );
  post({
    type: 'loaded',
    workload: def.name,
    description: def.description ?? '',
    params,
    hash: bundle.hash,
    inputs,
  });
  if (req.check) {
    post({
      type: 'done',
      snapshot: snapshot(sim.k, run, 0),
      events: 0,
      stats: { cmaLatenciesNs: [], wallMs: 0 },
    });
    return;
  }
  if (req.live) runLive(sim, run, limit, req.live, file, heartbeat);
  else
    runBatch(
      sim,
      run,
      limit,
      req.intervalNs ?? Infinity,
      req.progressMs,
      file,
      heartbeat,
      spool(sim.k, req, post),
    );
}

/**
 * Headless: as fast as possible, a snapshot every `interval` of simulated time until the run ends;
 * with `progressMs`, also the snapshot as it is now at most that often in wall time (--serve).
 */
function runBatch(
  sim: Simulation,
  run: RunInfo,
  limit: number,
  interval: number,
  progressMs: number | undefined,
  file: string,
  heartbeat: Heartbeat,
  /** sends the trace and kernel log gathered so far (spool.ts) */
  flush: () => void,
): void {
  const { engine } = sim;
  const wall0 = performance.now();
  let next = interval;
  let lastProgress = -Infinity;
  const progress = () => {
    if (progressMs === undefined || performance.now() - lastProgress < progressMs) return;
    lastProgress = performance.now();
    post({ type: 'progress', snapshot: snapshot(sim.k, run, engine.now) });
  };
  try {
    progress();
    for (;;) {
      const t = engine.peekTime();
      if (t === Infinity) break; // nothing pending: the run is over, whatever the interval
      if (next <= limit && next < t) {
        sim.run(next); // nothing happens before `next`: just move the clock
        flush();
        post({ type: 'snapshot', snapshot: snapshot(sim.k, run, next) });
        next += interval;
        continue;
      }
      if (t > limit) break;
      const stop = Math.min(limit, next);
      while (engine.peekTime() <= stop) {
        engine.step();
        if (progressMs !== undefined) progress();
      }
    }
  } catch (e) {
    post({ type: 'error', error: workloadError('run', e, file) });
    return;
  }
  heartbeat.watch(false); // no workload code runs from here on
  const stuck = sim.deadlock();
  if (stuck) {
    post({ type: 'error', error: { phase: 'run', message: stuck } });
    return;
  }
  if (!engine.idle) sim.run(limit);
  const stats = {
    cmaLatenciesNs: sim.k.cmaCalls.map((c) => c.latencyNs),
    wallMs: performance.now() - wall0,
  };
  flush();
  post({
    type: 'done',
    snapshot: snapshot(sim.k, run, engine.now),
    events: engine.eventsRun,
    stats,
  });
}

/**
 * Live: simulated time follows the wall clock times `speed`, in short slices so that control
 * messages get through; a frame at most `refreshHz` times a second (the TUI, issue #5).
 */
function runLive(
  sim: Simulation,
  run: RunInfo,
  limit: number,
  opts: LiveOptions,
  file: string,
  heartbeat: Heartbeat,
): void {
  const { engine, k } = sim;
  sim.recordEvents = true; // '.' says which event it ran
  let { paused } = opts;
  const pacer = new Realtime(
    () => performance.now(),
    () => engine.now,
    opts.speed,
  );
  let inspect = opts.inspect ?? null;
  let stepOne = false;
  let toFailure = false;
  let lastFrame = -Infinity;
  /** what the last frame showed; a frame that would show the same is not sent (paused runs) */
  let shown = { events: -1, now: -1 };
  let timer: NodeJS.Timeout | undefined;
  const finished = () => engine.peekTime() > limit;
  const publish = (step?: string) => {
    // a run that ends with events still pending ends at its limit, as runBatch's does: however
    // it got there (>, ., running), its last frame is the final snapshot
    if (finished() && !engine.idle && engine.now < limit) sim.run(limit);
    lastFrame = performance.now();
    shown = { events: engine.eventsRun, now: engine.now };
    post({
      type: 'frame',
      frame: {
        snapshot: snapshot(k, run, engine.now),
        view: view(k, opts.mapCells, opts.traceLines),
        speed: pacer.speed,
        paused,
        finished: finished(),
        events: engine.eventsRun,
        ...(step === undefined ? {} : { step }),
        ...(inspect === null ? {} : { proc: procDetail(k, inspect) }),
        holders: k.blockers.slice(0, MAX_LIST),
      },
    });
  };
  /** Run events while `more()` and at most SLICE_MS of wall time. */
  const slice = (more: () => boolean) => {
    const t0 = performance.now();
    while (more() && performance.now() - t0 < SLICE_MS) engine.step();
  };
  const tick = () => {
    heartbeat.watch(true);
    let clockTo = -Infinity;
    try {
      if (stepOne) {
        stepOne = false;
        if (finished()) publish();
        else {
          engine.step();
          publish(sim.lastEvent());
        }
      } else if (toFailure) {
        const before = k.failures.length;
        slice(() => !finished() && k.failures.length === before);
        if (k.failures.length > before || finished()) {
          toFailure = false;
          paused = true;
          pacer.sync();
          publish();
        }
      } else if (!paused && !finished()) {
        const target = pacer.speed === Infinity ? limit : Math.min(limit, pacer.due());
        slice(() => engine.peekTime() <= target);
        clockTo = target;
      }
      const stuck = sim.deadlock(); // at the time it happened, before the clock moves on
      if (stuck) {
        post({ type: 'error', error: { phase: 'run', message: stuck } });
        return;
      }
      if (engine.peekTime() > clockTo && clockTo > engine.now) sim.run(Math.floor(clockTo)); // the clock moves on between events
      const now = performance.now();
      const changed = engine.eventsRun !== shown.events || engine.now !== shown.now;
      if (changed && now - lastFrame >= 1000 / opts.refreshHz) publish();
    } catch (e) {
      post({ type: 'error', error: workloadError('run', e, file) });
      return;
    }
    heartbeat.watch(false); // until the next tick or control message
    timer = setTimeout(tick, nextTick());
  };
  /**
   * Wall ms until the next tick: when the next event is due or the next frame, whichever comes
   * first — not a fixed 1 ms poll, which alone cost several % of a core at 1× (bench/tui.ts).
   * Control messages wake the loop at once.
   */
  const nextTick = (): number => {
    if (stepOne || toFailure) return 0;
    if (paused || finished()) return PAUSED_MS;
    if (pacer.speed === Infinity) return 0;
    const now = performance.now();
    const nextEvent = pacer.wallAt(engine.peekTime());
    const nextFrame = lastFrame + 1000 / opts.refreshHz;
    return Math.max(1, Math.min(nextEvent, nextFrame) - now);
  };
  parentPort!.on('message', (m: ControlMessage) => {
    if (m.type === 'inspect') inspect = m.pid;
    else if (m.type === 'speed') pacer.speed = m.speed;
    else if (m.type === 'pause') paused = m.paused;
    else if (m.type === 'step') {
      stepOne = true;
      paused = true;
    } else {
      toFailure = true;
      paused = false;
    }
    pacer.sync();
    lastFrame = -Infinity;
    shown = { events: -1, now: -1 }; // show the new pacing even when paused
    clearTimeout(timer);
    timer = setTimeout(tick, 0);
  });
  tick();
}

// a worker may boot before its run is known (a spare, loader.ts): it waits for the start message
parentPort!.once('message', (start: Start) =>
  main(start).catch((e: unknown) => post({ type: 'error', error: workloadError('run', e, '') })),
);
