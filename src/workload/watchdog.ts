// The watchdog (issue #13): a workload is stopped when its own code runs too long without giving
// control back to the simulation (an endless loop), never for honest kernel work, however long.
// The worker and the main thread share a few integers: the worker bumps a counter whenever the
// engine resumes an actor and whenever kernel code (a system call, a timer) starts or ends, and
// says which of the two runs and which actor; the main thread checks the counter.
// Shared memory, not messages: a worker stuck in a loop cannot post anything.

/** What the worker is doing, as far as the watchdog cares. */
const IDLE = 0; // waiting for a message: nothing to watch
const WORKLOAD = 1; // the workload's code, or the engine between its events: watched
const KERNEL = 2; // a system call in the kernel model: honest work, not watched

const BEATS = 0;
const STATE = 1;
const PID = 2;
const NAME = 3; // the actor's name, one char code per slot
const NAME_CHARS = 32;

export type Beats = Int32Array;

export const newBeats = (): Beats =>
  new Int32Array(new SharedArrayBuffer((NAME + NAME_CHARS) * Int32Array.BYTES_PER_ELEMENT));

/** The worker's side. */
export class Heartbeat {
  private lastPid = -1;

  constructor(private readonly beats: Beats) {}

  /** Workload code may run from now on (true), or the worker waits for a message (false). */
  watch(on: boolean): void {
    Atomics.store(this.beats, STATE, on ? WORKLOAD : IDLE);
    Atomics.add(this.beats, BEATS, 1);
  }

  /** The engine resumes the actor `pid` named `name`: its code runs (watched). */
  actor(pid: number, name: string): void {
    this.kernel(false);
    if (pid === this.lastPid) return;
    this.lastPid = pid;
    Atomics.store(this.beats, PID, pid);
    for (let i = 0; i < NAME_CHARS; i++) this.beats[NAME + i] = name.charCodeAt(i) || 0;
  }

  /** Kernel code starts (a system call, a timer) or ends (back to the actor's code). */
  kernel(inside: boolean): void {
    Atomics.store(this.beats, STATE, inside ? KERNEL : WORKLOAD);
    Atomics.add(this.beats, BEATS, 1);
  }
}

/** The main thread's side: `stuck(message)` once the workload ran `ms` without yielding. */
export function watch(beats: Beats, ms: number, stuck: (message: string) => void): () => void {
  let seen = Atomics.load(beats, BEATS);
  let since = performance.now();
  const timer = setInterval(
    () => {
      const now = performance.now();
      const n = Atomics.load(beats, BEATS);
      if (n !== seen || Atomics.load(beats, STATE) !== WORKLOAD) {
        seen = n;
        since = now;
      } else if (now - since >= ms) {
        clearInterval(timer);
        stuck(describe(beats, ms));
      }
    },
    Math.min(250, ms / 4),
  );
  return () => clearInterval(timer);
}

function describe(beats: Beats, ms: number): string {
  const pid = Atomics.load(beats, PID);
  let name = '';
  for (let i = 0; i < NAME_CHARS && beats[NAME + i]; i++)
    name += String.fromCharCode(beats[NAME + i]!);
  const who = pid > 0 ? `the actor '${name}'[${pid}]` : "the workload's top-level code";
  return `${who} ran for ${ms / 1000} s of wall time without yielding (an endless loop?); stopped`;
}
