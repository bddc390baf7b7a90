// A live run that can be restarted: with other policies (the TUI's `p`) or from a new version of
// the workload file (watch mode). Blue/green: the new run starts in a fresh worker and replaces
// the running one only once it has produced its first frame; if it fails, the old one keeps
// going and the error is reported.
import { EventEmitter } from 'node:events';
import type { WorkloadErrorInfo } from './errors.js';
import { prewarm, type RunHandle, startRun } from './loader.js';
import type { ControlMessage, LiveFrame, LiveOptions, RunRequest } from './protocol.js';

export interface SessionEvents {
  frame: [LiveFrame];
  /** a run (re)started; `reason` says why */
  started: [
    {
      workload: string;
      description: string;
      reason: 'start' | 'restart' | 'reload';
      /** the files the workload was built from, for watch mode */
      inputs: string[];
    },
  ];
  /**
   * A run failed: a new attempt (the previous run, if any, keeps going: `stopped` false) or the
   * run on screen, which stopped there (`stopped` true).
   */
  error: [WorkloadErrorInfo, { stopped: boolean }];
}

export class Session extends EventEmitter<SessionEvents> {
  private current: RunHandle | undefined;
  private pending: RunHandle | undefined;
  private stopped = false;
  /** the pacing the user chose, re-applied to every new run */
  private pacing: Pick<LiveOptions, 'speed' | 'paused' | 'inspect'>;

  constructor(
    private req: RunRequest & { live: NonNullable<RunRequest['live']> },
    private readonly opts: { watchdogMs?: number; maxHeapMb?: number } = {},
  ) {
    super();
    this.pacing = { speed: req.live.speed, paused: req.live.paused };
  }

  get request(): RunRequest {
    return this.req;
  }

  start(): void {
    this.launch(this.req, 'start');
  }

  /** Restart with changed request fields (policies, params), same seed, at t = 0. */
  restart(changes: Partial<RunRequest>, reason: 'restart' | 'reload' = 'restart'): void {
    this.launch({ ...this.req, ...changes }, reason);
  }

  control(m: ControlMessage): void {
    if (m.type === 'speed') this.pacing.speed = m.speed;
    if (m.type === 'pause') this.pacing.paused = m.paused;
    if (m.type === 'step') this.pacing.paused = true;
    if (m.type === 'toFailure') this.pacing.paused = false;
    if (m.type === 'inspect') {
      const { inspect: _closed, ...rest } = this.pacing;
      this.pacing = m.pid === null ? rest : { ...rest, inspect: m.pid };
    }
    this.current?.control(m);
    this.pending?.control(m); // a run still starting gets the user's pacing too
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all([this.current?.stop(), this.pending?.stop()]);
  }

  private launch(
    req: RunRequest & { live: NonNullable<RunRequest['live']> },
    reason: 'start' | 'restart' | 'reload',
  ): void {
    if (this.stopped) return;
    void this.pending?.stop();
    const live = { ...req.live, ...this.pacing };
    let info = { workload: '', description: '', inputs: [] as string[] };
    let promoted = false;
    const handle: RunHandle = startRun(
      { ...req, live },
      {
        ...this.opts,
        onMessage: (m) => {
          if (this.pending !== handle && this.current !== handle) return; // superseded
          if (m.type === 'loaded') {
            info = { workload: m.workload, description: m.description, inputs: m.inputs };
          }
          if (m.type !== 'frame') return;
          if (!promoted) {
            promoted = true;
            const old = this.current;
            this.current = handle;
            this.pending = undefined;
            this.req = req;
            void old?.stop();
            this.emit('started', { ...info, reason });
          }
          // the worker pauses by itself ('.', '>'): its frames say what the next run inherits
          this.pacing = { ...this.pacing, speed: m.frame.speed, paused: m.frame.paused };
          this.emit('frame', m.frame);
        },
      },
    );
    this.pending = handle;
    prewarm(this.opts.maxHeapMb); // the next reload takes a worker that has already booted
    void handle.done.then((o) => {
      if (o.ok || this.stopped) return;
      if (o.error.message === 'stopped') return;
      if (this.pending === handle) this.pending = undefined;
      this.emit('error', o.error, { stopped: this.current === handle });
    });
  }
}
