// The run's frames as a React hook: each frame the session sends is handed on through the frame
// gate (frame-gate.ts: draw under a CPU budget, urgent frames at once), with the session's
// 'started' and 'error' events.
import { useEffect, useRef } from 'react';
import type { WorkloadErrorInfo } from '../../workload/errors.js';
import type { ControlMessage, LiveFrame, RunRequest } from '../../workload/protocol.js';
import type { SessionEvents } from '../../workload/session.js';
import { FrameGate, urgent } from '../frame-gate.js';

/** What the TUI needs of a Session (workload/session.ts); tests pass a fake. */
export interface SessionLike {
  on(event: 'frame', listener: (f: LiveFrame) => void): unknown;
  on(event: 'started', listener: (info: SessionEvents['started'][0]) => void): unknown;
  on(event: 'error', listener: (e: WorkloadErrorInfo, how: { stopped: boolean }) => void): unknown;
  off(event: 'frame', listener: (f: LiveFrame) => void): unknown;
  off(event: 'started', listener: (info: SessionEvents['started'][0]) => void): unknown;
  off(event: 'error', listener: (e: WorkloadErrorInfo, how: { stopped: boolean }) => void): unknown;
  control(m: ControlMessage): void;
  restart(changes: Partial<RunRequest>): void;
}

export interface SessionHandlers {
  frame(frame: LiveFrame): void;
  started(info: SessionEvents['started'][0]): void;
  error(error: WorkloadErrorInfo, stopped: boolean): void;
}

/**
 * Follow `session` while mounted; `renderBudget`: keep drawing under this fraction of a core
 * (none: draw every frame). The handlers may change between renders: the latest are called.
 */
export function useSessionFrames(
  session: SessionLike,
  renderBudget: number | undefined,
  handlers: SessionHandlers,
): void {
  const latest = useRef(handlers);
  latest.current = handlers;
  useEffect(() => {
    const gate = new FrameGate(renderBudget ?? 0);
    let waiting: LiveFrame | undefined;
    let drawn: LiveFrame | undefined;
    let timer: NodeJS.Timeout | undefined;
    const draw = () => {
      clearTimeout(timer);
      timer = undefined;
      const frame = waiting;
      waiting = undefined;
      if (!frame) return;
      gate.drawn();
      latest.current.frame(frame);
      drawn = frame;
    };
    const onFrame = (frame: LiveFrame) => {
      waiting = frame; // a newer frame replaces one still waiting
      const wait = gate.wait(urgent(drawn, frame));
      if (wait === 0) draw();
      else timer ??= setTimeout(draw, wait);
    };
    const onStarted = (info: SessionEvents['started'][0]) => latest.current.started(info);
    const onError = (error: WorkloadErrorInfo, how: { stopped: boolean }) =>
      latest.current.error(error, how.stopped);
    session.on('frame', onFrame);
    session.on('started', onStarted);
    session.on('error', onError);
    return () => {
      clearTimeout(timer);
      session.off('frame', onFrame);
      session.off('started', onStarted);
      session.off('error', onError);
    };
  }, [session, renderBudget]);
}
