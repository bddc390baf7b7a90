// The worker that runs one workload: bundle it with esbuild, import it, simulate, and post
// snapshots to the main thread. A fresh worker per run (or reload) throws away the whole module
// graph; terminate() stops a runaway workload (research/ecosystem.md §5.3).
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';
import { build, type Message } from 'esbuild';
import { MLOCK_LIMIT } from '../kernel/config.js';
import { type Blocker, blame } from '../kernel/observe/blame.js';
import { MAX_LIST, type RunInfo, snapshot } from '../metrics/snapshot.js';
import { view } from '../metrics/view.js';
import { parseDuration } from '../sim/units.js';
import { System } from './api.js';
import {
  checkMachine,
  checkWorkload,
  DEFINED_AT,
  type LoadedWorkload,
  type Params,
} from './define.js';
import { codeFrame, locate, type WorkloadErrorInfo, workloadError } from './errors.js';
import {
  type ControlMessage,
  HOLDERS_PER_FAILURE,
  type HostMessage,
  type LiveOptions,
  type RunRequest,
} from './protocol.js';
import { Simulation } from './runtime.js';

const INDEX = join(dirname(fileURLToPath(import.meta.url)), '..', 'index.js');
/** Without a duration or --until, a run stops here even if actors are still sleeping. */
const DEFAULT_LIMIT_NS = 24 * 3600e9;
/** Events per slice between progress messages (the watchdog listens for them). */
const SLICE = 20_000;
/** Wall time a live slice may take before control messages get a turn. */
const SLICE_MS = 30;

const post = (m: HostMessage) => parentPort!.postMessage(m);

/** esbuild: bundle the workload and what it imports; `cmascope` resolves to this package. */
async function bundle(file: string): Promise<{ code: string; inputs: string[] }> {
  const out = await build({
    entryPoints: [file],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: 'inline',
    sourcesContent: false,
    // the bundle is imported from a temporary directory: absolute sources, so that stack traces
    // name the workload's own file (errors.ts locate())
    sourceRoot: `${pathToFileURL(dirname(file)).href}/`,
    logLevel: 'silent',
    metafile: true,
    outdir: dirname(file),
    plugins: [
      {
        name: 'cmascope',
        setup(b) {
          b.onResolve({ filter: /^cmascope$/ }, () => ({
            path: pathToFileURL(INDEX).href,
            external: true,
          }));
        },
      },
    ],
  });
  const inputs = Object.keys(out.metafile.inputs).map((p) => resolve(process.cwd(), p));
  return { code: out.outputFiles[0]!.text, inputs };
}

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

function parseParam(def: Params, key: string, raw: string): string | number | boolean {
  if (!(key in def)) {
    throw new TypeError(
      `unknown parameter '${key}': the workload has ${Object.keys(def).join(', ') || 'none'}`,
    );
  }
  const d = def[key];
  if (typeof d === 'number') {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n))
      throw new TypeError(`parameter ${key}=${raw}: expected a number`);
    return n;
  }
  if (typeof d === 'boolean') {
    if (raw !== 'true' && raw !== 'false')
      throw new TypeError(`parameter ${key}=${raw}: expected true or false`);
    return raw === 'true';
  }
  return raw;
}

function esbuildError(e: unknown, file: string): HostMessage {
  const first = (e as { errors?: Message[] }).errors?.[0];
  if (!first?.location) return { type: 'error', error: workloadError('load', e, file) };
  const loc = first.location; // line 1-based, column 0-based
  const location = {
    file: resolve(process.cwd(), loc.file),
    line: loc.line,
    column: loc.column + 1,
  };
  const error: WorkloadErrorInfo = {
    phase: 'load',
    message: first.text,
    location,
  };
  const frame = codeFrame(location, `${'\n'.repeat(loc.line - 1)}${loc.lineText}`);
  if (frame) error.frame = frame;
  return { type: 'error', error };
}

async function main(req: RunRequest): Promise<void> {
  process.setSourceMapsEnabled(true);
  const file = req.file;
  let code: string;
  let inputs: string[];
  try {
    ({ code, inputs } = await bundle(file));
  } catch (e) {
    post(esbuildError(e, file));
    return;
  }
  let def: LoadedWorkload;
  let sim: Simulation;
  let params: Params;
  try {
    def = checkWorkload(await importBundle(code));
  } catch (e) {
    post({ type: 'error', error: workloadError('load', e, file) });
    return;
  }
  const definedAt = locate({ stack: def[DEFINED_AT] ?? '' }, file);
  try {
    params = { ...(def.params ?? {}) };
    for (const [key, raw] of Object.entries(req.set))
      params[key] = parseParam(def.params ?? {}, key, raw);
    const { version, ...policies } = def.kernel ?? {};
    const machine =
      typeof def.machine === 'function' ? checkMachine(def.machine(params)) : def.machine;
    sim = new Simulation({
      machine,
      version: req.version ?? version ?? '6.18',
      policies: { ...policies, ...req.policies },
      seed: req.seed,
    });
  } catch (e) {
    post({ type: 'error', error: workloadError('load', e, file, definedAt) });
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
    post({ type: 'error', error: workloadError('load', e, file, definedAt) });
    return;
  }
  const main = def.main;
  sim.spawn(def.name, { uid: 0, capIpcLock: true, memlock: MLOCK_LIMIT }, (t) =>
    main(new System(sim, t), params),
  );
  const hash = createHash('sha256').update(code).digest('hex').slice(0, 16);
  post({
    type: 'loaded',
    workload: def.name,
    description: def.description ?? '',
    params,
    hash,
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
  if (req.live) runLive(sim, run, limit, req.live, file);
  else runBatch(sim, run, limit, req.intervalNs ?? Infinity, file);
}

/** Headless: as fast as possible, a snapshot every `interval` of simulated time. */
function runBatch(
  sim: Simulation,
  run: RunInfo,
  limit: number,
  interval: number,
  file: string,
): void {
  const { engine } = sim;
  const wall0 = performance.now();
  let next = interval;
  let lastProgress = performance.now();
  try {
    for (;;) {
      const t = engine.peekTime();
      if (next <= limit && next < t) {
        sim.run(next); // nothing happens before `next`: just move the clock
        post({ type: 'snapshot', snapshot: snapshot(sim.k, run, next) });
        next += interval;
        continue;
      }
      if (t > limit) break;
      const stop = Math.min(limit, next);
      for (let i = 0; i < SLICE && engine.peekTime() <= stop; i++) engine.step();
      if (performance.now() - lastProgress > 100) {
        lastProgress = performance.now();
        post({ type: 'progress', simTimeNs: engine.now, events: engine.eventsRun });
      }
    }
  } catch (e) {
    post({ type: 'error', error: workloadError('run', e, file) });
    return;
  }
  if (!engine.idle) sim.run(limit);
  const stats = {
    cmaLatenciesNs: sim.k.cmaCalls.map((c) => c.latencyNs),
    wallMs: performance.now() - wall0,
  };
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
): void {
  const { engine, k } = sim;
  let { speed, paused } = opts;
  let stepOne = false;
  let toFailure = false;
  let anchorWall = performance.now();
  let anchorSim = engine.now;
  let lastFrame = -Infinity;
  const reanchor = () => {
    anchorWall = performance.now();
    anchorSim = engine.now;
  };
  const finished = () => engine.peekTime() > limit;
  // The holder of every blocking page, named right after the event that recorded the failure
  // (the kernel's own blame covers only the first): the TUI's failure drill-down.
  const holders: (Blocker | null)[][] = [];
  const step = () => {
    engine.step();
    while (holders.length < k.failures.length && holders.length < MAX_LIST) {
      const pfns = k.failures[holders.length]!.blocking_pfns ?? [];
      holders.push(pfns.slice(0, HOLDERS_PER_FAILURE).map((pfn) => blame(k, pfn) ?? null));
    }
  };
  const publish = () => {
    lastFrame = performance.now();
    post({
      type: 'frame',
      frame: {
        snapshot: snapshot(k, run, engine.now),
        view: view(k, opts.mapCells, opts.traceLines),
        speed,
        paused,
        finished: finished(),
        events: engine.eventsRun,
        holders,
      },
    });
  };
  /** Run events while `more()` and at most SLICE_MS of wall time. */
  const slice = (more: () => boolean) => {
    const t0 = performance.now();
    while (more() && performance.now() - t0 < SLICE_MS) step();
  };
  const tick = () => {
    try {
      if (stepOne) {
        stepOne = false;
        if (!finished()) step();
        publish();
      } else if (toFailure) {
        const before = k.failures.length;
        slice(() => !finished() && k.failures.length === before);
        if (k.failures.length > before || finished()) {
          toFailure = false;
          paused = true;
          reanchor();
          publish();
        }
      } else if (!paused && !finished()) {
        const target =
          speed === Infinity
            ? limit
            : Math.min(limit, anchorSim + (performance.now() - anchorWall) * 1e6 * speed);
        slice(() => engine.peekTime() <= target);
        if (engine.peekTime() > target && target > engine.now) sim.run(Math.floor(target)); // the clock moves on between events
      }
      if (performance.now() - lastFrame >= 1000 / opts.refreshHz) publish();
    } catch (e) {
      post({ type: 'error', error: workloadError('run', e, file) });
      return;
    }
    setTimeout(tick, paused || finished() ? 20 : 1);
  };
  parentPort!.on('message', (m: ControlMessage) => {
    if (m.type === 'speed') speed = m.speed;
    else if (m.type === 'pause') paused = m.paused;
    else if (m.type === 'step') {
      stepOne = true;
      paused = true;
    } else {
      toFailure = true;
      paused = false;
    }
    reanchor();
    lastFrame = -Infinity;
  });
  tick();
}

main(workerData as RunRequest).catch((e: unknown) =>
  post({ type: 'error', error: workloadError('run', e, '') }),
);
