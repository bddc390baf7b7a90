// The TUI's container: the app's state (app-state.ts), the session and the keys. It renders only
// from the session's frames (at most `refreshHz` a second from the worker) — one state update
// per frame, none for a frame that changes nothing, and frames coalesced when drawing would
// exceed its share of a core (frame-gate.ts) — and from what the user changed (ui-state.ts).
// What is drawn is screen.tsx, a pure view of both.
import { useApp, useInput, useStdin } from 'ink';
import { useCallback, useRef, useState } from 'react';
import type { Policies } from '../kernel/config.js';
import { type AppEvent, type AppState, reduceApp } from './app-state.js';
import { type SessionLike, useSessionFrames } from './hooks/use-session-frames.js';
import { useTerminalSize } from './hooks/use-terminal-size.js';
import { burstKeys, type KeyLike, keyAction } from './keys.js';
import type { Size } from './layout.js';
import { initialModel } from './model.js';
import { nextPreset, PRESETS, presetIndex, stepSpeed } from './presets.js';
import { Screen } from './screen.js';
import type { Theme } from './theme.js';
import { initialUi } from './ui-state.js';

// the view, for the callers that draw it alone (tests)
export { Screen, type ScreenProps } from './screen.js';

export interface AppProps {
  session: SessionLike;
  theme: Theme;
  /** the starting speed (--speed) */
  speed: number;
  /** --policy switches from the command line; presets override teePin and teeAccounting */
  basePolicies: Partial<Policies>;
  /** a fixed terminal size (tests); otherwise stdout's, following resizes */
  size?: Size;
  cwd?: string;
  /** keep drawing frames under this fraction of a core (frame-gate.ts); none: draw every frame */
  renderBudget?: number;
}

export function App(props: AppProps) {
  const { session, theme, basePolicies } = props;
  const { exit } = useApp();
  const { isRawModeSupported } = useStdin();
  const size = useTerminalSize(props.size);
  const [state, setState] = useState(
    (): AppState => ({ model: initialModel(), ui: initialUi(props.speed) }),
  );
  // the state after the newest event, ahead of the render: several keys can arrive in one read
  const stateRef = useRef(state);
  /** reduce `e` once, here (not again in React's reducer queue), and render the result */
  const send = useCallback(
    (e: AppEvent) => {
      const before = stateRef.current;
      const after = reduceApp(before, e);
      if (after === before) return; // nothing changed: no render
      stateRef.current = after;
      setState(after);
      // the run's worker sends the detail of the process that is open, and only of it
      const pid = after.ui.procDetail;
      if (pid !== before.ui.procDetail) session.control({ type: 'inspect', pid: pid ?? null });
    },
    [session],
  );

  useSessionFrames(session, props.renderBudget, {
    frame: (frame) => send({ type: 'frame', frame }),
    started: (info) => send({ type: 'started', ...info }),
    error: (error, stopped) => send({ type: 'error', error, stopped }),
  });

  const onKey = useCallback(
    (input: string, key: KeyLike) => {
      const { ui: u, model: m, askedPreset } = stateRef.current;
      const frame = m.frame;
      const a = keyAction(input, key, u.edit !== undefined);
      // the help scrolls with the moving keys; any other key closes it
      const scrolls = a?.type === 'move' || a?.type === 'home' || a?.type === 'end';
      if (u.help && a?.type !== 'quit' && !scrolls) {
        send({ type: 'ui', event: { type: 'help' } });
        return;
      }
      if (!a) return;
      switch (a.type) {
        case 'quit':
          exit();
          return;
        case 'pause':
          session.control({ type: 'pause', paused: !(frame?.paused ?? false) });
          break;
        case 'step':
          session.control({ type: 'step' });
          break;
        case 'toFailure':
          session.control({ type: 'toFailure' });
          send({ type: 'seek', from: frame?.snapshot.failures_total ?? 0 });
          return;
        case 'faster':
        case 'slower':
          session.control({
            type: 'speed',
            speed: stepSpeed(u.speed, a.type === 'faster' ? 1 : -1),
          });
          break;
        case 'preset': {
          const next = nextPreset(askedPreset ?? presetIndex(frame?.snapshot.kernel));
          session.restart({ policies: { ...basePolicies, ...PRESETS[next]!.policies } });
          send({ type: 'preset', index: next });
          return;
        }
      }
      send({ type: 'ui', event: a });
    },
    [exit, session, basePolicies, send],
  );
  // Keys typed faster than Ink reads them arrive as one string ('++'): one key each, except in
  // the filter prompt, where a paste is text
  const onInput = useCallback(
    (input: string, key: KeyLike) => {
      if ([...input].length > 1 && stateRef.current.ui.edit === undefined && !key.ctrl) {
        for (const [k, flags] of burstKeys(input)) onKey(k, flags);
      } else onKey(input, key);
    },
    [onKey],
  );
  useInput(onInput, { isActive: isRawModeSupported });

  const { model, ui } = state;

  return (
    <Screen model={model} ui={ui} size={size} theme={theme} cwd={props.cwd ?? process.cwd()} />
  );
}
