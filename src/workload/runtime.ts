// The simulation a workload runs in: the engine, the kernel, and the actors. Actors are
// generators that yield system calls (Call effects) and get back a value or an errno name.
// Kernel-level failure is a result, never an exception.
import { bootKernel, type KernelSpec } from '../kernel/boot.js';

import { ERRNO, type Errno, errnoName, MLOCK_LIMIT } from '../kernel/config.js';
import { exitTask, forkTask, spawnTask } from '../kernel/fork.js';
import type { Kernel } from '../kernel/kernel.js';
import { recordFailure } from '../kernel/observe/failures.js';
import type { SysResult } from '../kernel/syscalls.js';
import type { Task } from '../kernel/task.js';
import type { LogLine } from '../metrics/snapshot.js';
import { type Body, Engine, type Process, type Sleep, sleep } from '../sim/engine.js';
import type { Rng } from '../sim/rng.js';
import { parseDuration, parseSize } from '../sim/units.js';
import type { Heartbeat } from './watchdog.js';

/** A system call an actor yields: `yield p.mmapAnon('1MiB')`, or typed: `yield* p.mmapAnon(...)`. */
export class Call<T> {
  constructor(
    readonly task: Task,
    /** the system call's name, for failure records */
    readonly name: string,
    readonly run: (k: Kernel, task: Task) => SysResult | Generator<Sleep, SysResult>,
    readonly map: (r: SysResult) => T,
  ) {}

  *[Symbol.iterator](): Generator<Call<T>, T | Errno, unknown> {
    return (yield this) as T | Errno;
  }
}

export interface Credentials {
  uid?: number;
  /** CAP_IPC_LOCK */
  capIpcLock?: boolean;
  /** RLIMIT_MEMLOCK: a size, or 'unlimited'; default 8 MiB */
  memlock?: string | number;
}

/** Runs one kernel-level call for a task, keeping `current` right across its sleeps. */
function* runCall(sim: Simulation, call: Call<unknown>): Generator<Sleep, unknown> {
  const { k } = sim;
  const task = call.task;
  k.currentPid = task.pid;
  k.currentFatal = task.fatalSignal;
  sim.heartbeat?.kernel(true);
  sim.noteCall(call.name);
  let r = call.run(k, task);
  if (typeof r === 'object' && 'next' in r) {
    const gen = r;
    let done = false;
    try {
      for (;;) {
        k.currentPid = task.pid;
        k.currentFatal = task.fatalSignal;
        sim.heartbeat?.kernel(true);
        const step = gen.next();
        if (step.done) {
          r = step.value;
          done = true;
          break;
        }
        yield step.value;
        sim.noteCall(call.name);
      }
    } finally {
      // the actor was ended mid-call: let the kernel path release what it holds (its finally)
      if (!done) gen.return(-ERRNO.EINTR);
    }
  }
  k.currentPid = task.pid;
  let out: unknown;
  if (typeof r === 'number' && r < 0) {
    recordFailure(k, call.name, r);
    const name = errnoName(r);
    sim.noteCall(call.name, name);
    out = name;
  } else {
    out = call.map(r);
    sim.noteCall(call.name, 'ok');
  }
  k.currentPid = 0;
  if (task.fatalSignal) sim.reap(task);
  sim.heartbeat?.kernel(false);
  return out;
}

/** A value as a workload author would recognise it in a message. */
function describeYield(v: unknown): string {
  if (typeof v === 'string') return `'${v}'`;
  if (typeof v === 'function') return `a function (${v.name || 'anonymous'}); call it`;
  if (typeof v === 'object' && v !== null) return `an object (${v.constructor?.name ?? 'Object'})`;
  return String(v);
}

export class Simulation {
  readonly engine: Engine;
  readonly k: Kernel;
  readonly results: Record<string, unknown> = {};
  readonly logs: LogLine[] = [];
  private readonly procs = new Map<number, Process>();
  /** the task pid of each actor's process */
  private readonly pids = new Map<Process, number>();
  private readonly inCall = new Set<number>();
  /** live runs only: what the event that ran last did, for the TUI's `.` (lastEvent) */
  recordEvents = false;
  /** the event that ran last: the actor it resumed (undefined: a timer) and its system calls */
  private lastProc: Process | undefined;
  private readonly lastCalls: { name: string; ret?: string }[] = [];

  constructor(
    spec: KernelSpec,
    /** the watchdog's view of the worker (watchdog.ts), if one is watching */
    readonly heartbeat?: Heartbeat,
  ) {
    this.engine = new Engine({
      onDispatch: (proc) => {
        this.lastProc = proc;
        this.lastCalls.length = 0;
        if (!heartbeat) return;
        if (proc) heartbeat.actor(this.pids.get(proc)!, proc.name);
        else heartbeat.kernel(true);
      },
      onEffect: (proc, effect) => {
        if (!(effect instanceof Call)) {
          throw new TypeError(
            `actor '${proc.name}' yielded ${describeYield(effect)}, not a system call: yield p.sleep('1s') or yield* p.mmapAnon('1MiB')`,
          );
        }
        return this.call(proc, effect);
      },
    });
    this.k = bootKernel(spec, this.engine);
  }

  /** A system call ran (ret undefined: it sleeps in the kernel) in the current event. */
  noteCall(name: string, ret?: string): void {
    if (!this.recordEvents) return;
    const last = this.lastCalls[this.lastCalls.length - 1];
    if (last?.name === name && last.ret === undefined) last.ret = ret;
    else this.lastCalls.push(ret === undefined ? { name } : { name, ret });
  }

  /**
   * The event that ran last, as the TUI's `.` reports it: 'event 1234 at 5.622553 s:
   * player[101] dma_heap_alloc → ENOMEM, sleep (in the kernel)'.
   */
  lastEvent(): string {
    const { engine, k } = this;
    const pid = this.lastProc ? this.pids.get(this.lastProc) : undefined;
    const who =
      pid === undefined
        ? 'a kernel timer'
        : `${k.tasks.get(pid)?.comm ?? this.lastProc!.name}[${pid}]`;
    const calls = this.lastCalls.map((c) =>
      c.ret === undefined ? `${c.name} (in the kernel)` : `${c.name} → ${c.ret}`,
    );
    const what = calls.length
      ? calls.join(', ')
      : pid === undefined
        ? 'ran'
        : 'ran, no system call';
    return `event ${engine.eventsRun} at ${(engine.now / 1e9).toFixed(6)} s: ${who} ${what}`;
  }

  private *call(_proc: Process, c: Call<unknown>): Generator<Sleep, unknown> {
    // keyed by task pid, as kill() looks it up (engine pids are a different numbering)
    this.inCall.add(c.task.pid);
    try {
      return yield* runCall(this, c);
    } finally {
      this.inCall.delete(c.task.pid);
    }
  }

  /** A new task running `body` from now on; it exits (closing its files) when `body` returns. */
  spawn(comm: string, cred: Credentials, body: (task: Task) => Body<unknown>, cpu?: number): Task {
    const memlock = cred.memlock ?? MLOCK_LIMIT;
    const task = spawnTask(this.k, comm, {
      uid: cred.uid ?? 0,
      capIpcLock: cred.capIpcLock ?? false,
      rlimitMemlock: memlock === 'unlimited' ? Infinity : parseSize(memlock, 'RLIMIT_MEMLOCK'),
    });
    task.cpu = cpu;
    this.start(task, body);
    return task;
  }

  /** fork(): the child runs `body`; undefined when the copy ran out of memory. */
  fork(parent: Task, comm: string, body: (task: Task) => Body<unknown>): Task | undefined {
    const child = forkTask(this.k, parent, comm);
    if (child) this.start(child, body);
    return child;
  }

  private start(task: Task, body: (task: Task) => Body<unknown>): void {
    const { k, heartbeat } = this;
    function* actor(): Body<unknown> {
      try {
        const it = body(task);
        if (typeof (it as { next?: unknown } | undefined)?.next !== 'function') {
          throw new TypeError(
            `the body of '${task.comm}' must be a generator function (function* (p) { ... }), but it returned ${describeYield(it)}`,
          );
        }
        return yield* it;
      } finally {
        heartbeat?.kernel(true); // exit_mm may free a lot of memory
        exitTask(k, task);
      }
    }
    const proc = this.engine.spawn(task.comm, actor());
    this.procs.set(task.pid, proc);
    this.pids.set(proc, task.pid);
  }

  /**
   * SIGKILL: a task in user space dies at once; one inside a system call sees
   * fatal_signal_pending() and dies when the call returns.
   */
  kill(pid: number): boolean {
    const task = this.k.tasks.get(pid);
    if (!task || task.state === 'exited') return false;
    task.fatalSignal = true;
    if (!this.inCall.has(pid)) {
      this.heartbeat?.kernel(true);
      this.reap(task);
      this.heartbeat?.kernel(false);
    }
    return true;
  }

  /** @internal end a killed task's actor */
  reap(task: Task): void {
    const proc = this.procs.get(task.pid);
    if (proc && !proc.done) this.engine.kill(proc);
    exitTask(this.k, task);
  }

  /** The engine process of a task, to join it. */
  procOf(pid: number): Process | undefined {
    return this.procs.get(pid);
  }

  /**
   * With no event pending, an actor blocked in a wait can never be woken: who waits for whom
   * (`'a'[101] waits for 'b'[102], ...`), or undefined if nobody is stuck.
   */
  deadlock(): string | undefined {
    if (!this.engine.idle) return undefined;
    const owner = new Map([...this.procs].map(([pid, p]) => [p.exitQueue, pid]));
    const name = (pid: number) => `'${this.procs.get(pid)?.name}'[${pid}]`;
    const waits = [...this.procs]
      .filter(([, p]) => p.state === 'blocked')
      .map(([pid, p]) => {
        const on = owner.get(p.blockedOn!);
        return `${name(pid)} waits for ${on === pid ? 'itself' : name(on!)}`;
      });
    if (waits.length === 0) return undefined;
    return `deadlock at t=${(this.engine.now / 1e9).toFixed(3)}s: ${waits.join(', ')}`;
  }

  rng(name: string): Rng {
    return this.k.rng.stream(`workload:${name}`);
  }

  sleep(d: string | number): Sleep {
    return sleep(parseDuration(d));
  }

  run(untilNs = Infinity): void {
    this.engine.run(untilNs);
  }
}
