// Start a workload in a fresh worker and follow it: snapshots, the final result, or an error.
// The watchdog (watchdog.ts) stops a workload whose own code runs too long without yielding.
// This runs in the workload's own process (runner.ts); loader.ts starts it, and bundles.
import { relative } from 'node:path';
import { Worker } from 'node:worker_threads';
import { builtWorkloadModule } from './built.js';
import type { Bundle } from './bundle.js';
import type { ControlMessage, HostMessage, Outcome, RunRequest, Start } from './protocol.js';
import { newBeats, watch } from './watchdog.js';

export interface RunOptions {
  /** wall-clock ms the workload's code may run without yielding before it is stopped (default 10 s) */
  watchdogMs?: number;
  /** the worker's heap limit (default 2048 MiB) */
  maxHeapMb?: number;
  onMessage?: (m: HostMessage) => void;
}

export interface RunHandle {
  readonly done: Promise<Outcome>;
  /** Steer a live run (RunRequest.live). */
  control(m: ControlMessage): void;
  /** Terminate the worker (the outcome becomes an error if it was still running). */
  stop(): Promise<void>;
}

/** The worker's script. */
const HOST = builtWorkloadModule('host.js', import.meta.url);
const DEFAULT_HEAP_MB = 2048;
/** The young generation and the code space of a worker: V8 bounds them apart from its heap. */
const YOUNG_MB = 32;
const CODE_MB = 64;
/**
 * The process's memory beyond the main thread's and its workers' heap limits (the young
 * generations, code, buffers) before a run is stopped as out of memory: ArrayBuffers are outside the heap
 * limit, and a native builtin that allocates in a loop can outgrow it (`Array.prototype.fill` on a
 * sparse array of 2^32 - 1 elements).
 */
const HEADROOM_MB = 64;
/** How much more a stopped worker may still grow before the process ends itself (below). */
const STOPPING_MB = 128;
/** How often the process's resident memory is checked while workers run. */
const MEMORY_CHECK_MS = 20;
/**
 * A worker stuck in native code ignores terminate(), and would keep the process from ever exiting
 * (process.exit() waits for it too): the process ends itself (SIGKILL), the run's error already
 * written, when a stopped worker is still there after this long or still grows.
 */
const TERMINATE_MS = 10_000;

const spawnWorker = (heapMb: number) =>
  new Worker(HOST, {
    resourceLimits: {
      maxOldGenerationSizeMb: heapMb,
      maxYoungGenerationSizeMb: YOUNG_MB,
      codeRangeSizeMb: CODE_MB,
    },
    stderr: true,
  });

/** The heap limits of the runs going on, MiB (the memory check's budget). */
let runningHeapMb = 0;
/** The process's resident memory when the runs going on started (the main thread's own), MiB. */
let baseMb = 0;
const rssMb = () => process.memoryUsage.rss() / 2 ** 20;

/** A booted worker that has run nothing yet, kept ready for the next run (watch mode). */
let spare: { worker: Worker; heapMb: number } | undefined;

/** Boot a spare worker now, so that the next run starts without waiting for one. */
export function prewarm(maxHeapMb = DEFAULT_HEAP_MB): void {
  if (spare?.heapMb === maxHeapMb) return;
  void spare?.worker.terminate();
  spare = { worker: spawnWorker(maxHeapMb), heapMb: maxHeapMb };
  spare.worker.unref(); // an idle spare does not keep the process alive
}

function takeWorker(heapMb: number): Worker {
  const w = spare?.heapMb === heapMb ? spare.worker : undefined;
  if (!w) return spawnWorker(heapMb);
  spare = undefined;
  w.ref();
  return w;
}

export function startRun(req: RunRequest, b: Bundle, opts: RunOptions = {}): RunHandle {
  const watchdogMs = opts.watchdogMs ?? 10_000;
  const heapMb = opts.maxHeapMb ?? DEFAULT_HEAP_MB;
  const worker = takeWorker(heapMb);
  const name = relative(process.cwd(), req.file);
  const beats = newBeats();
  let hash = '';
  if (runningHeapMb === 0) baseMb = rssMb();
  runningHeapMb += heapMb;
  const memory = setInterval(() => {
    const mb = rssMb();
    const limit = baseMb + runningHeapMb + HEADROOM_MB;
    if (!settled && mb > limit) outOfMemory();
    else if (settled && mb > limit + STOPPING_MB) process.kill(process.pid, 'SIGKILL');
  }, MEMORY_CHECK_MS);
  const outOfMemory = () =>
    fail(`${name}: the workload ran out of memory (worker heap limit ${heapMb} MiB); stopped`);
  worker.once('exit', () => {
    clearInterval(memory);
    runningHeapMb -= heapMb;
  });
  let settled = false;
  let settle: (o: Outcome) => void = () => {};
  const done = new Promise<Outcome>((resolve) => {
    settle = (o) => {
      settled = true;
      unwatch();
      settle = () => {};
      const stuck = setTimeout(() => process.kill(process.pid, 'SIGKILL'), TERMINATE_MS);
      worker.once('exit', () => clearTimeout(stuck));
      void worker.terminate();
      resolve(o);
    };
  });
  const fail = (message: string) => settle({ ok: false, error: { phase: 'run', message } });
  worker.postMessage({ req, bundle: b, beats } satisfies Start);
  const unwatch = watch(beats, watchdogMs, (message) => fail(`${name}: ${message}`));
  worker.on('message', (m: HostMessage) => {
    opts.onMessage?.(m);
    if (m.type === 'loaded') hash = m.hash;
    if (m.type === 'done')
      settle({ ok: true, final: m.snapshot, events: m.events, stats: m.stats, hash });
    else if (m.type === 'error') settle({ ok: false, error: m.error });
  });
  worker.on('error', (e: Error & { code?: string }) =>
    e.code === 'ERR_WORKER_OUT_OF_MEMORY'
      ? outOfMemory()
      : fail(`${name}: the workload's worker failed: ${e.message}`),
  );
  worker.on('exit', () => fail(`${name}: the workload worker exited unexpectedly`));
  return {
    done,
    control: (m) => worker.postMessage(m),
    stop: async () => {
      fail('stopped');
      await worker.terminate();
    },
  };
}
