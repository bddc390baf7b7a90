// What the TUI knows about the run, built only from the session's events: the newest frame, the
// history of free CMA kept from successive frames, and the newest error. One reducer step per
// event, so React state changes at most once per frame; an unchanged frame (a paused run keeps
// publishing) returns the same model and renders nothing.
import type { WorkloadErrorInfo } from '../workload/errors.js';
import type { LiveFrame } from '../workload/protocol.js';

/** Samples of free CMA kept per area (a braille chart shows 2 per column). */
export const HISTORY = 512;

export interface History {
  /** simulated time of each sample, ns */
  t: number[];
  /** free pages per area, one sample per frame in which simulated time moved */
  free: Record<string, number[]>;
}

export interface Model {
  frame?: LiveFrame;
  history: History;
  /** from the session's 'started' event */
  workload?: string;
  description?: string;
  /** runs started so far (1 after the first); a restart resets the history */
  runs: number;
  /** the newest failed attempt (load or run error); cleared when a run starts */
  error?: WorkloadErrorInfo;
  /** that error stopped the run on screen (else a new attempt failed, and the run goes on) */
  stopped?: boolean;
}

export type ModelEvent =
  | { type: 'frame'; frame: LiveFrame }
  | { type: 'started'; workload: string; description: string; reason: string }
  | { type: 'error'; error: WorkloadErrorInfo; stopped: boolean };

export const emptyHistory = (): History => ({ t: [], free: {} });

export const initialModel = (): Model => ({ history: emptyHistory(), runs: 0 });

const keep = (xs: number[], x: number): number[] => {
  const out = xs.length >= HISTORY ? xs.slice(xs.length - HISTORY + 1) : xs.slice();
  out.push(x);
  return out;
};

/** The free-page samples of area `name` so far (own keys only: an area may be named '__proto__'). */
export const freeHistory = (h: History, name: string): number[] =>
  Object.hasOwn(h.free, name) ? h.free[name]! : [];

/** The history with the frame's free CMA appended (only when simulated time moved on). */
export function addSample(h: History, f: LiveFrame): History {
  const now = f.snapshot.simTimeNs;
  const last = h.t[h.t.length - 1];
  if (last !== undefined && now < last) return addSample(emptyHistory(), f); // a new run at t = 0
  if (last !== undefined && now === last) return h;
  const free = Object.fromEntries(
    Object.entries(f.snapshot.cma).map(([name, a]) => [
      name,
      keep(freeHistory(h, name), a.pages_by_state.free),
    ]),
  );
  return { t: keep(h.t, now), free };
}

/** Nothing the screen shows changed between two frames. */
function sameFrame(a: LiveFrame, b: LiveFrame): boolean {
  return (
    a.events === b.events &&
    a.snapshot.simTimeNs === b.snapshot.simTimeNs &&
    a.paused === b.paused &&
    a.speed === b.speed &&
    a.finished === b.finished &&
    a.snapshot.failures_total === b.snapshot.failures_total &&
    a.proc?.pid === b.proc?.pid
  );
}

export function reduceModel(m: Model, e: ModelEvent): Model {
  switch (e.type) {
    case 'frame': {
      if (m.frame && sameFrame(m.frame, e.frame)) return m;
      return { ...m, frame: e.frame, history: addSample(m.history, e.frame) };
    }
    case 'started': {
      const { error: _cleared, stopped: _s, ...rest } = m;
      return {
        ...rest,
        workload: e.workload,
        description: e.description,
        runs: m.runs + 1,
        history: m.runs > 0 ? emptyHistory() : m.history,
      };
    }
    case 'error':
      return { ...m, error: e.error, stopped: e.stopped };
  }
}
