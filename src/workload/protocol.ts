// Messages between the main thread and a workload worker (host.ts), and between cmascope and
// the workload's process (runner.ts).
import type { KernelVersion, Policies } from '../kernel/config.js';
import type { Blocker } from '../kernel/observe/blame.js';
import type { TraceName } from '../kernel/observe/trace.js';
import type { ProcDetail } from '../metrics/proc-detail.js';
import type { Snapshot } from '../metrics/snapshot.js';
import type { View } from '../metrics/view.js';
import type { Bundle } from './bundle.js';
import type { WorkloadErrorInfo } from './errors.js';
import type { Beats } from './watchdog.js';

export interface RunRequest {
  /** absolute path of the workload file */
  file: string;
  seed: number;
  /** --set key=value, parsed against the workload's params in the worker */
  set: Record<string, string>;
  version?: KernelVersion;
  policies: Partial<Policies>;
  /** simulated time between snapshots, ns */
  intervalNs?: number;
  /** headless: also post the snapshot as it is now, every this many ms of wall time (--serve) */
  progressMs?: number;
  /** stop here (simulated ns); default the workload's duration */
  untilNs?: number;
  /** load and validate only: report 'done' at t = 0 without running */
  check?: boolean;
  /** run paced against the wall clock, controlled by ControlMessages (the TUI) */
  live?: LiveOptions;
  /** stream these trace events in 'trace' messages (`run --trace`) */
  trace?: TraceName[];
  /** stream the kernel log in 'dmesg' messages (`run --dmesg`) */
  dmesg?: boolean;
}

export interface LiveOptions {
  /** snapshots per second at most */
  refreshHz: number;
  /** simulated seconds per wall second; Infinity: as fast as possible */
  speed: number;
  paused: boolean;
  /** the process whose detail the TUI shows (LiveFrame.proc) */
  inspect?: number;
  /** map cells per CMA area in the view */
  mapCells: number;
  traceLines: number;
}

/** Main thread → live worker. */
export type ControlMessage =
  | { type: 'speed'; speed: number }
  | { type: 'pause'; paused: boolean }
  /** run exactly one event, then stay paused */
  | { type: 'step' }
  /** run until the next failure is recorded, then pause */
  | { type: 'toFailure' }
  /** send this process's detail with every frame (null: none) */
  | { type: 'inspect'; pid: number | null };

/** A live snapshot: the snapshot plus the TUI's view and the pacing state. */
export interface LiveFrame {
  snapshot: Snapshot;
  view: View;
  speed: number;
  paused: boolean;
  /** the run reached its end (duration or no more events) */
  finished: boolean;
  events: number;
  /** the detail of the process asked for with 'inspect' */
  proc?: ProcDetail;
  /** after a single step (`.`): which event ran (Simulation.lastEvent) */
  step?: string;
  /**
   * Who held each blocking page when the failure happened: `holders[i][j]` is the holder of
   * `snapshot.failures[i].blocking_pfns[j]` (null: nobody the kernel can name). Failures without
   * blocking pfns get []. At most MAX_BLOCKING_PFNS (kernel.ts) per failure.
   */
  holders?: (Blocker | null)[][];
}

export type HostMessage =
  | {
      type: 'loaded';
      workload: string;
      description: string;
      params: Record<string, unknown>;
      /** hash of the bundle: the workload and everything it imports */
      hash: string;
      /** the files of the bundle (absolute paths), for watch mode */
      inputs: string[];
    }
  | { type: 'snapshot'; snapshot: Snapshot }
  /** the run as it is now (RunRequest.progressMs): wall-clock paced, for --serve only, never output */
  | { type: 'progress'; snapshot: Snapshot }
  /** trace records in ftrace's text, UTF-8 (a batch of whole lines, in order) */
  | { type: 'trace'; bytes: Uint8Array; records: number }
  /** kernel log lines as dmesg prints them (a batch of whole lines, in order) */
  | { type: 'dmesg'; text: string }
  | { type: 'frame'; frame: LiveFrame }
  | { type: 'done'; snapshot: Snapshot; events: number; stats: RunStats }
  | { type: 'error'; error: WorkloadErrorInfo };

/** What a finished run reports besides its final snapshot (compare, issue #7). */
export interface RunStats {
  /** simulated latency of every cma_alloc call, ns, in call order */
  cmaLatenciesNs: number[];
  /** wall time of the simulation, ms (not deterministic: never part of an output that must be) */
  wallMs: number;
}

/** Parent → the workload's process (loader.ts → runner.ts): start the run, then steer it. */
export type ProcessRequest =
  | {
      type: 'start';
      req: RunRequest;
      bundle: Bundle;
      opts: { watchdogMs?: number; maxHeapMb?: number };
    }
  | ControlMessage;

/** The workload's process → parent: the run's messages, then its outcome. */
/** How a run ended: its final snapshot, or the error that stopped it. */
export type Outcome =
  | { ok: true; final: Snapshot; events: number; stats: RunStats; hash: string }
  | { ok: false; error: WorkloadErrorInfo };

/** What the main thread sends first: the run, the workload bundled there (bundle.ts), and the
 * watchdog's shared counters (watchdog.ts). */
export interface Start {
  req: RunRequest;
  bundle: Bundle;
  beats: Beats;
}

export type ProcessMessage = HostMessage | { type: 'outcome'; outcome: Outcome };
