// When a frame from the session gets drawn. The worker sends at most `refreshHz` frames a second;
// drawing one costs the UI thread several ms (Ink lays out and rewrites the whole screen, and
// React renders after the update, not during it). The gate keeps the UI thread's busy time under
// a budget, a fraction of one core, measured with the event loop's own utilization: a frame that
// arrives sooner than the budget allows waits, and a newer one replaces it. Frames that change
// what the user is waiting for — a pause, a step, the end, a new failure, a new run — are drawn
// at once.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { LiveFrame } from '../workload/protocol.js';

/** Busy time of the UI thread since the last mark, ms. */
export interface BusyMeter {
  mark(): void;
  busy(): number;
}

/** The event loop's active time (performance.eventLoopUtilization): any platform. */
export function eventLoopMeter(): BusyMeter {
  let at = performance.eventLoopUtilization();
  return {
    mark: () => {
      at = performance.eventLoopUtilization();
    },
    busy: () => performance.eventLoopUtilization(at).active,
  };
}

/**
 * The CPU time of this thread (Linux: /proc/thread-self/stat, in 10 ms ticks). Unlike the event
 * loop's active time it does not grow while the thread waits for a core on a busy machine.
 */
export function threadCpuMeter(): BusyMeter | undefined {
  const read = (): number | undefined => {
    try {
      const stat = readFileSync('/proc/thread-self/stat', 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return (Number(f[11]) + Number(f[12])) * 10; // utime + stime, USER_HZ = 100
    } catch {
      return undefined;
    }
  };
  let at = read();
  if (at === undefined) return undefined;
  return {
    mark: () => {
      at = read() ?? at;
    },
    busy: () => Math.max(0, (read() ?? at!) - at!),
  };
}

export class FrameGate {
  private last = -Infinity;
  /** busy ms per drawn frame, a moving average (the meter may tick coarsely) */
  private cost = 0;

  constructor(
    /** fraction of a core the UI thread may be busy, e.g. 0.06; 0: no limit */
    private readonly budget: number,
    private readonly meter: BusyMeter = threadCpuMeter() ?? eventLoopMeter(),
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** ms until a frame may be drawn; 0 for now */
  wait(urgent: boolean): number {
    if (urgent || !(this.budget > 0)) return 0;
    // what the thread spent since the last draw (that draw included) sets the gap to the next
    const cost = Math.max(this.cost, this.meter.busy());
    return Math.max(0, this.last + cost / this.budget - this.now());
  }

  /** a frame is being drawn now */
  drawn(): void {
    if (this.last > -Infinity) {
      const busy = this.meter.busy();
      this.cost = this.cost === 0 ? busy : 0.7 * this.cost + 0.3 * busy;
    }
    this.last = this.now();
    this.meter.mark();
  }
}

/** A frame the user should see at once, given the last one drawn. */
export function urgent(last: LiveFrame | undefined, f: LiveFrame): boolean {
  if (!last) return true;
  return (
    f.paused ||
    f.finished !== last.finished ||
    f.paused !== last.paused ||
    f.speed !== last.speed ||
    f.snapshot.failures_total !== last.snapshot.failures_total ||
    f.snapshot.simTimeNs < last.snapshot.simTimeNs // a new run
  );
}
