// Discrete-event engine: processes are stacks of generators, resumed from an event heap
// ordered by (time, seq). Simulated time is an integer number of nanoseconds.

/** A process body. Yield sleep(), queue.wait(), engine.join(), a nested Body, or a custom effect. */
export type Body<R = void> = Generator<unknown, R, unknown>;

type Frame = Generator<unknown, unknown, unknown>;
type Callback = () => void;

export interface Sleep {
  readonly kind: 'sleep';
  readonly ns: number;
}

/** Effect: resume after `ns` nanoseconds (0 lets same-time events scheduled earlier run first). */
export const sleep = (ns: number): Sleep => ({ kind: 'sleep', ns });

/** Effect yielded by WaitQueue.wait(). */
export class WaitEffect {
  constructor(readonly queue: WaitQueue<unknown>) {}
}

/** Effect yielded by Engine.join(). */
export class JoinEffect {
  constructor(readonly proc: Process) {}
}

/** FIFO of blocked processes; a woken process resumes with the value passed to the wake. */
export class WaitQueue<T = unknown> {
  /** @internal */
  readonly waiters: Process[] = [];
  private readonly effect = new WaitEffect(this);

  /** Effect: block until woken; resumes with the wake value. */
  wait(): WaitEffect {
    return this.effect;
  }

  get length(): number {
    return this.waiters.length;
  }

  /** Wakes the longest waiter, at the current time. Returns whether there was one. */
  wakeOne(value: T): boolean {
    const p = this.waiters.shift();
    if (p !== undefined) p.engine.resume(p, value);
    return p !== undefined;
  }

  /** Wakes every waiter, in the order they blocked. Returns how many. */
  wakeAll(value: T): number {
    const woken = this.waiters.splice(0);
    for (const p of woken) p.engine.resume(p, value);
    return woken.length;
  }
}

export type ProcessState = 'runnable' | 'sleeping' | 'blocked' | 'exited' | 'killed';

/** A simulated process. Its public fields are maintained by the engine; treat them as read-only. */
export class Process {
  state: ProcessState = 'runnable';
  exitValue: unknown = undefined;
  fatalSignal = false;
  /** @internal Generator stack; the last frame is the innermost. */
  readonly frames: Frame[];
  /** @internal Seq of this process's one live resume event, or -1; other events for it are stale. */
  ticket = -1;
  /** @internal Value delivered by the pending resume. */
  resumeValue: unknown = undefined;
  /** @internal */
  blockedOn: WaitQueue<unknown> | null = null;
  /** @internal Processes joining this one. */
  readonly exitQueue = new WaitQueue<unknown>();

  /** @internal Use Engine.spawn(). */
  constructor(
    readonly engine: Engine,
    readonly pid: number,
    readonly name: string,
    body: Body<unknown>,
  ) {
    this.frames = [body];
  }

  get done(): boolean {
    return this.state === 'exited' || this.state === 'killed';
  }
}

/** An exception escaped a process, which is left 'killed'; `cause` is the original error. */
export class ProcessError extends Error {
  override readonly name = 'ProcessError';

  constructor(
    readonly proc: Process,
    cause: unknown,
  ) {
    super(`${proc.name}[${proc.pid}]: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    });
  }
}

export interface EngineOptions {
  /**
   * Handles any other yielded value. Returning a generator (or iterator) runs it as a frame
   * (so a handler can be a generator that sleeps); any other result is sent straight
   * back to the process. A throw is raised inside the process at its yield.
   */
  onEffect?: (proc: Process, effect: unknown) => unknown;
  /** Called before each event runs: with the process it resumes, or undefined for a callback. */
  onDispatch?: (proc: Process | undefined) => void;
}

// %GeneratorPrototype%, whose next/throw every generator object inherits. Calling them
// directly avoids a property lookup per resume, which goes megamorphic (and slow) once
// many generator functions are in play.
const GeneratorPrototype: Frame = Object.getPrototypeOf(function* () {}).prototype;
const { next: resumeFrame, throw: raiseInFrame } = GeneratorPrototype;

/** A plain iterator as a generator, with the semantics of yield*. */
function* adapt(it: Iterator<unknown, unknown, unknown>): Frame {
  return yield* { [Symbol.iterator]: () => it };
}

/** v as a frame if it is a generator or other iterator, else null. */
function toFrame(v: unknown): Frame | null {
  if (typeof v !== 'object' || v === null) return null;
  const proto: unknown = Object.getPrototypeOf(v);
  if (proto !== null && Object.getPrototypeOf(proto) === GeneratorPrototype) return v as Frame;
  const it = v as Iterator<unknown, unknown, unknown>;
  return typeof it.next === 'function' ? adapt(it) : null;
}

const nsError = (what: string, ns: number): RangeError =>
  new RangeError(`invalid ${what} ${ns}: expected a non-negative integer number of nanoseconds`);

function describe(effect: unknown): string {
  if (typeof effect === 'object' && effect !== null && 'kind' in effect) {
    return `{ kind: ${String(effect.kind)} }`;
  }
  return String(effect);
}

export class Engine {
  private clock = 0;
  private events = 0;
  private nextSeq = 0;
  private nextPid = 1;
  /** The process whose generator code is executing right now, if any. */
  private stepping: Process | null = null;
  private readonly onEffect: EngineOptions['onEffect'];
  private readonly onDispatch: EngineOptions['onDispatch'];

  // Binary min-heap on (time, seq) in parallel arrays; payloads[i] belongs to times[i].
  private size = 0;
  private times = new Float64Array(256);
  private seqs = new Float64Array(256);
  private readonly payloads: (Process | Callback | undefined)[] = [];

  constructor(opts: EngineOptions = {}) {
    this.onEffect = opts.onEffect;
    this.onDispatch = opts.onDispatch;
  }

  /** Simulated time, in nanoseconds. */
  get now(): number {
    return this.clock;
  }

  /** Events dispatched so far (stale wakeups of killed processes excluded). */
  get eventsRun(): number {
    return this.events;
  }

  /** True when no event is pending. */
  get idle(): boolean {
    this.purge();
    return this.size === 0;
  }

  /** Time of the next pending event, or Infinity. */
  peekTime(): number {
    this.purge();
    return this.size === 0 ? Infinity : this.times[0]!;
  }

  /** Starts `body` as a new process at now + delay. */
  spawn(name: string, body: Body<unknown>, opts: { delay?: number } = {}): Process {
    const delay = opts.delay ?? 0;
    if (!Number.isSafeInteger(delay) || delay < 0) throw nsError('spawn delay', delay);
    const p = new Process(this, this.nextPid++, name, body);
    this.push(this.clock + delay, p);
    return p;
  }

  /** Calls fn at simulated time `time` (>= now). */
  at(time: number, fn: () => void): void {
    if (!Number.isSafeInteger(time) || time < this.clock) {
      throw new RangeError(
        `invalid event time ${time}: expected an integer >= now (${this.clock})`,
      );
    }
    this.push(time, fn);
  }

  /** Calls fn `ns` nanoseconds from now. */
  after(ns: number, fn: () => void): void {
    if (!Number.isSafeInteger(ns) || ns < 0) throw nsError('delay', ns);
    this.push(this.clock + ns, fn);
  }

  /** Effect: wait for `proc` to finish; resumes with its exit value (undefined if killed). */
  join(proc: Process): JoinEffect {
    return new JoinEffect(proc);
  }

  /**
   * Delivers a fatal signal: closes every frame innermost first (running `finally`
   * blocks, which must not yield), marks the process killed and wakes its joiners.
   * A process that kills itself is reaped as soon as its current step yields.
   */
  kill(proc: Process): void {
    if (proc.done || proc.fatalSignal) return;
    proc.fatalSignal = true;
    if (proc !== this.stepping) this.reap(proc);
  }

  /**
   * Runs events in order while the next one is due at or before `untilNs`, then sets
   * now = untilNs if that is finite (time never moves backwards). Exceptions from
   * callbacks, and ProcErrors, propagate; the engine stays usable afterwards.
   */
  run(untilNs = Infinity): void {
    for (;;) {
      this.purge();
      if (this.size === 0 || this.times[0]! > untilNs) break;
      this.dispatch();
    }
    if (untilNs !== Infinity && untilNs > this.clock) this.clock = untilNs;
  }

  /** Runs the next event. Returns false if there was none. */
  step(): boolean {
    this.purge();
    if (this.size === 0) return false;
    this.dispatch();
    return true;
  }

  /** @internal Makes a blocked process runnable at the current time (used by WaitQueue). */
  resume(p: Process, value: unknown): void {
    p.blockedOn = null;
    p.state = 'runnable';
    p.resumeValue = value;
    this.push(this.clock, p);
  }

  /** Pops the (non-stale) root event and runs it. */
  private dispatch(): void {
    const time = this.times[0]!;
    const payload = this.payloads[0]!;
    this.popRoot();
    this.clock = time;
    this.events++;
    if (typeof payload === 'function') {
      this.onDispatch?.(undefined);
      payload();
      return;
    }
    this.onDispatch?.(payload);
    const value = payload.resumeValue;
    payload.ticket = -1;
    payload.resumeValue = undefined;
    payload.state = 'runnable';
    this.drive(payload, value, false);
  }

  /** Trampoline: advances p's frame stack until it blocks, sleeps or finishes. */
  private drive(p: Process, input: unknown, isThrow: boolean): void {
    const frames = p.frames;
    for (;;) {
      const frame = frames[frames.length - 1]!;
      let r: IteratorResult<unknown, unknown>;
      this.stepping = p;
      try {
        r = isThrow ? raiseInFrame.call(frame, input) : resumeFrame.call(frame, input);
      } catch (e) {
        this.stepping = null;
        if (p.fatalSignal) {
          this.reap(p);
          return;
        }
        // The frame is finished: the exception continues in its parent.
        frames.pop();
        if (frames.length === 0) this.fail(p, e); // throws
        input = e;
        isThrow = true;
        continue;
      }
      this.stepping = null;
      if (p.fatalSignal) {
        this.reap(p);
        return;
      }

      if (r.done) {
        frames.pop();
        if (frames.length === 0) {
          this.finish(p, 'exited', r.value);
          return;
        }
        input = r.value;
        isThrow = false;
        continue;
      }

      const v = r.value;
      isThrow = false;
      if (typeof v === 'object' && v !== null) {
        if ((v as Sleep).kind === 'sleep') {
          const ns = (v as Sleep).ns;
          if (Number.isSafeInteger(ns) && ns >= 0) {
            p.state = 'sleeping';
            this.push(this.clock + ns, p);
            return;
          }
          input = nsError('sleep', ns);
          isThrow = true;
          continue;
        }
        if (v instanceof WaitEffect) {
          this.block(p, v.queue);
          return;
        }
        if (v instanceof JoinEffect) {
          if (!v.proc.done) {
            this.block(p, v.proc.exitQueue);
            return;
          }
          input = v.proc.exitValue;
          continue;
        }
        const child = toFrame(v);
        if (child !== null) {
          frames.push(child);
          input = undefined;
          continue;
        }
      }

      const onEffect = this.onEffect;
      if (onEffect === undefined) {
        input = new TypeError(`unknown effect ${describe(v)} (the engine has no onEffect handler)`);
        isThrow = true;
        continue;
      }
      let res: unknown;
      try {
        res = onEffect(p, v);
      } catch (e) {
        if (p.done) throw e;
        input = e;
        isThrow = true;
        continue;
      }
      if (p.done) return; // the handler killed it
      const child = toFrame(res);
      if (child !== null) {
        frames.push(child);
        input = undefined;
      } else input = res;
    }
  }

  private block(p: Process, q: WaitQueue<unknown>): void {
    p.state = 'blocked';
    p.blockedOn = q;
    q.waiters.push(p);
  }

  private finish(p: Process, state: 'exited' | 'killed', value: unknown): void {
    p.state = state;
    p.exitValue = value;
    p.exitQueue.wakeAll(value);
  }

  /** An exception escaped p's outermost frame: p dies (like a kernel oops) and run() throws. */
  private fail(p: Process, error: unknown): never {
    this.finish(p, 'killed', undefined);
    throw new ProcessError(p, error);
  }

  private reap(p: Process): void {
    p.ticket = -1;
    p.resumeValue = undefined;
    const q = p.blockedOn;
    if (q !== null) {
      q.waiters.splice(q.waiters.indexOf(p), 1);
      p.blockedOn = null;
    }
    let failed = false;
    let error: unknown;
    while (p.frames.length > 0) {
      const frame = p.frames.pop()!;
      try {
        if (!frame.return(undefined).done && !failed) {
          failed = true;
          error = new Error('yielded from a finally block while being killed');
        }
      } catch (e) {
        if (!failed) {
          failed = true;
          error = e;
        }
      }
    }
    this.finish(p, 'killed', undefined);
    if (failed) throw new ProcessError(p, error);
  }

  /** Skips stale resume events (of killed processes) at the root. */
  private purge(): void {
    while (this.size > 0) {
      const payload = this.payloads[0]!;
      if (typeof payload === 'function' || payload.ticket === this.seqs[0]) return;
      this.popRoot();
    }
  }

  private push(time: number, payload: Process | Callback): void {
    const seq = this.nextSeq++;
    if (typeof payload !== 'function') payload.ticket = seq;
    if (this.size === this.times.length) this.grow();
    const { times, seqs, payloads } = this;
    // Sift up. seq exceeds every queued seq, so a parent with an equal time stays first.
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pt = times[parent]!;
      if (pt <= time) break;
      times[i] = pt;
      seqs[i] = seqs[parent]!;
      payloads[i] = payloads[parent];
      i = parent;
    }
    times[i] = time;
    seqs[i] = seq;
    payloads[i] = payload;
  }

  private popRoot(): void {
    const { times, seqs, payloads } = this;
    const n = --this.size;
    const time = times[n]!;
    const seq = seqs[n]!;
    const payload = payloads[n];
    payloads[n] = undefined;
    if (n === 0) return;
    // Sift the former last element down from the root.
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      let ct = times[c]!;
      let cs = seqs[c]!;
      const r = c + 1;
      if (r < n) {
        const rt = times[r]!;
        const rs = seqs[r]!;
        if (rt < ct || (rt === ct && rs < cs)) {
          c = r;
          ct = rt;
          cs = rs;
        }
      }
      if (time < ct || (time === ct && seq < cs)) break;
      times[i] = ct;
      seqs[i] = cs;
      payloads[i] = payloads[c];
      i = c;
    }
    times[i] = time;
    seqs[i] = seq;
    payloads[i] = payload;
  }

  private grow(): void {
    const times = new Float64Array(this.times.length * 2);
    const seqs = new Float64Array(this.seqs.length * 2);
    times.set(this.times);
    seqs.set(this.seqs);
    this.times = times;
    this.seqs = seqs;
  }
}
