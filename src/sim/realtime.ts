// Real-time pacing of simulated time, beside the engine it paces (SimPy's RealtimeEnvironment:
// simulated time follows a wall clock times a factor, re-anchored by sync()). The engine itself
// never reads a clock; the live run (workload/host.ts) asks this pacer how far it may run.

/** A wall clock in milliseconds (performance.now in a live run, a fake one in tests). */
export type WallClock = () => number;

export class Realtime {
  private anchorWall: number;
  private anchorSim: number;

  /**
   * `speed`: simulated seconds per wall second (Infinity: as fast as possible); `simNow`: the
   * engine's time in ns.
   */
  constructor(
    private readonly wall: WallClock,
    private readonly simNow: () => number,
    public speed: number,
  ) {
    this.anchorWall = wall();
    this.anchorSim = simNow();
  }

  /** sync(): simulated time from here on runs from the engine's time now, at the speed now. */
  sync(): void {
    this.anchorWall = this.wall();
    this.anchorSim = this.simNow();
  }

  /** The simulated time (ns) the wall clock has reached. */
  due(): number {
    return this.anchorSim + (this.wall() - this.anchorWall) * 1e6 * this.speed;
  }

  /** The wall time (ms) at which simulated time `t` (ns) is due. */
  wallAt(t: number): number {
    return this.anchorWall + (t - this.anchorSim) / (1e6 * this.speed);
  }
}
