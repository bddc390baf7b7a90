// Start a workload in a fresh worker and follow it: snapshots, the final result, or an error.
// A watchdog terminates a worker that stops reporting for longer than its wall-time budget.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Snapshot } from '../metrics/snapshot.js';
import { bundle, bundleError } from './bundle.js';
import type { WorkloadErrorInfo } from './errors.js';
import type { Start } from './host.js';
import type { ControlMessage, HostMessage, RunRequest, RunStats } from './protocol.js';

export type Outcome =
  | { ok: true; final: Snapshot; events: number; stats: RunStats; hash: string }
  | { ok: false; error: WorkloadErrorInfo };

export interface RunOptions {
  /** wall-clock ms without a message from the worker before it is stopped (default 10 s) */
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

/**
 * The worker's script: next to this module in dist/, or — when this module runs from its
 * TypeScript source (tests) or inside a bundle (benches) — the package's build.
 */
function hostUrl(): URL {
  const local = new URL('./host.js', import.meta.url);
  if (existsSync(local)) return local;
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return pathToFileURL(join(dir, 'dist', 'workload', 'host.js'));
}

const HOST = hostUrl();
const DEFAULT_HEAP_MB = 2048;

const spawnWorker = (heapMb: number) =>
  new Worker(HOST, { resourceLimits: { maxOldGenerationSizeMb: heapMb }, stderr: true });

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

export function startRun(req: RunRequest, opts: RunOptions = {}): RunHandle {
  const watchdogMs = opts.watchdogMs ?? 10_000;
  const worker = takeWorker(opts.maxHeapMb ?? DEFAULT_HEAP_MB);
  let timer: NodeJS.Timeout | undefined;
  let hash = '';
  // bundle here while the worker boots; it waits for the start message (host.ts)
  bundle(req.file).then(
    (b) => worker.postMessage({ req, bundle: b } satisfies Start),
    (e: unknown) => settle({ ok: false, error: bundleError(e, req.file) }),
  );
  let settled = false;
  let settle: (o: Outcome) => void = () => {};
  const done = new Promise<Outcome>((resolve) => {
    settle = (o) => {
      settled = true;
      clearTimeout(timer);
      settle = () => {};
      void worker.terminate();
      resolve(o);
    };
  });
  const fail = (message: string) => settle({ ok: false, error: { phase: 'run', message } });
  const arm = () => {
    clearTimeout(timer);
    // messages still queued when the run was stopped must not start a new watchdog: it would
    // keep the process alive for watchdogMs after everything else is done
    if (settled) return;
    timer = setTimeout(
      () =>
        fail(
          `the workload did not yield for ${watchdogMs / 1000} s of wall time (an endless loop in an actor?); stopped`,
        ),
      watchdogMs,
    );
  };
  arm();
  worker.on('message', (m: HostMessage) => {
    arm();
    opts.onMessage?.(m);
    if (m.type === 'loaded') hash = m.hash;
    if (m.type === 'done')
      settle({ ok: true, final: m.snapshot, events: m.events, stats: m.stats, hash });
    else if (m.type === 'error') settle({ ok: false, error: m.error });
  });
  worker.on('error', (e: Error & { code?: string }) =>
    fail(
      e.code === 'ERR_WORKER_OUT_OF_MEMORY'
        ? `the workload ran out of memory (worker heap limit ${opts.maxHeapMb ?? 2048} MiB); stopped`
        : `the workload's worker failed: ${e.message}`,
    ),
  );
  worker.on('exit', () => fail('the workload worker exited unexpectedly'));
  return {
    done,
    control: (m) => worker.postMessage(m),
    stop: async () => {
      fail('stopped');
      await worker.terminate();
    },
  };
}
