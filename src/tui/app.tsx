// The TUI: layout, focus and keys. It renders only from the session's frames (at most
// `refreshHz` a second from the worker) — one state update per frame, none for a frame that
// changes nothing, and frames coalesced when drawing would exceed its share of a core
// (frame-gate.ts) — and from what the user changed (ui-state.ts). Screen is the pure view of
// both; App holds the state and the keys.
import { Box, Text, useApp, useInput, useStdin } from 'ink';
import { type ReactNode, useCallback, useRef, useState } from 'react';
import type { Policies } from '../kernel/config.js';
import { CmaPanel } from './cma-panel.js';
import { ErrorPanel, errorHeight } from './error-panel.js';
import { FailureDetail } from './failure-detail.js';
import { defaultFailure, FailuresPanel } from './failures-panel.js';
import { Help } from './help.js';
import { type SessionLike, useSessionFrames } from './hooks/use-session-frames.js';
import { useTerminalSize } from './hooks/use-terminal-size.js';
import { type Action, burstKeys, type KeyLike, keyAction } from './keys.js';
import { computeLayout, MIN_COLUMNS, MIN_ROWS, type Size } from './layout.js';
import { initialModel, type Model, type ModelEvent, reduceModel } from './model.js';
import { nextPreset, PRESETS, presetIndex, stepSpeed } from './presets.js';
import { ProcessDetail } from './process-detail.js';
import { filterRows, procRows, sortRows } from './process-table.js';
import { ProcessesPanel } from './processes-panel.js';
import { HintLine, StatusLine } from './status-line.js';
import { type Theme, ThemeContext, useTheme } from './theme.js';
import { TracePanel } from './trace-panel.js';
import { initialUi, reduceUi, type UiContext, type UiState } from './ui-state.js';

export interface ScreenProps {
  model: Model;
  ui: UiState;
  size: Size;
  theme: Theme;
  /** paths in errors are shown relative to this */
  cwd: string;
}

/** Everything on screen, from the model and the UI state only, under `theme`. */
export function Screen({ theme, ...rest }: ScreenProps) {
  return (
    <ThemeContext.Provider value={theme}>
      <ScreenBody {...rest} />
    </ThemeContext.Provider>
  );
}

function ScreenBody({ model, ui, size, cwd }: Omit<ScreenProps, 'theme'>) {
  const theme = useTheme();
  const f = model.frame;
  const s = f?.snapshot;
  const L = computeLayout(size, {
    areas: s ? Object.keys(s.cma).length : 1,
    processes: s?.processes.length ?? 0,
  });
  const W = L.columns;
  const workload = model.workload ?? s?.workload ?? '';
  const status = (
    <StatusLine
      frame={f}
      workload={workload}
      preset={presetIndex(s?.kernel)}
      speed={ui.speed}
      error={model.error !== undefined}
      stopped={model.stopped === true}
      width={W}
    />
  );
  if (L.tooSmall) {
    return (
      <Box flexDirection="column" width={W} height={L.height}>
        {status}
        <Text wrap="truncate-end" {...theme.style('warn')}>
          {`Terminal ${size.columns}${theme.glyphs.times}${size.rows} is smaller than ${MIN_COLUMNS}${theme.glyphs.times}${MIN_ROWS}: enlarge it (q quits).`}
        </Text>
      </Box>
    );
  }
  const bodyBelowCma = L.middle.height + L.trace.height;
  let body: ReactNode;
  if (!f || !s) {
    body = model.error ? (
      <ErrorPanel
        error={model.error}
        cwd={cwd}
        hasRun={false}
        stopped={false}
        width={W}
        height={L.cma.height + bodyBelowCma}
      />
    ) : (
      <Box height={L.cma.height + bodyBelowCma}>
        <Text {...theme.style('muted')}>{`Starting ${workload || 'the workload'}…`}</Text>
      </Box>
    );
  } else {
    const cma = (
      <CmaPanel
        areas={s.cma}
        maps={f.view.maps}
        history={model.history}
        width={W}
        height={L.cma.height}
        mapRows={L.cma.mapRows}
        histRows={L.cma.histRows}
        areasShown={L.cma.areas}
        offset={ui.areaOffset}
        focused={ui.focus === 'cma' && !ui.detail && ui.procDetail === undefined && !ui.help}
      />
    );
    let below: ReactNode;
    if (ui.help) {
      below = undefined; // the help takes the whole body (below)
    } else if (ui.procDetail !== undefined) {
      below = (
        <ProcessDetail
          pid={ui.procDetail}
          snapshot={s}
          detail={f.proc?.pid === ui.procDetail ? f.proc : undefined}
          width={W}
          height={bodyBelowCma}
        />
      );
    } else if (ui.detail && s.failures.length > 0) {
      below = (
        <FailureDetail
          index={Math.min(ui.failure ?? defaultFailure(s.failures), s.failures.length - 1)}
          failures={s.failures}
          total={s.failures_total}
          processes={s.processes}
          areas={s.cma}
          maps={f.view.maps}
          holders={f.holders}
          width={W}
          height={bodyBelowCma}
          mapRows={Math.max(1, L.cma.mapRows)}
        />
      );
    } else {
      let middleH = L.middle.height;
      let bottomH = L.trace.height;
      if (model.error) {
        const want = Math.min(errorHeight(model.error), Math.max(bottomH, bodyBelowCma - 5));
        middleH -= Math.max(0, want - bottomH);
        bottomH = Math.max(bottomH, want);
      }
      const side = L.middle.side;
      const pw = side ? L.middle.processes.width : W;
      const fw = side ? W - pw : W;
      const ph = side ? middleH : Math.min(L.middle.processes.height, middleH);
      const fh = side ? middleH : middleH - ph;
      const processes = (
        <ProcessesPanel
          processes={s.processes}
          users={s.users}
          sort={ui.sort}
          filter={ui.filters.processes}
          row={ui.procRow}
          width={pw}
          height={ph}
          focused={ui.focus === 'processes'}
        />
      );
      const failures = (
        <FailuresPanel
          failures={s.failures}
          total={s.failures_total}
          processes={s.processes}
          results={s.results}
          selected={ui.failure}
          width={fw}
          height={fh}
          focused={ui.focus === 'failures'}
        />
      );
      below = (
        <>
          <Box flexDirection={side ? 'row' : 'column'} width={W} height={middleH}>
            {processes}
            {failures}
          </Box>
          {model.error ? (
            <ErrorPanel
              error={model.error}
              cwd={cwd}
              hasRun
              stopped={model.stopped === true}
              width={W}
              height={bottomH}
            />
          ) : (
            <TracePanel
              events={f.view.events}
              filter={ui.filters.trace}
              back={ui.traceBack}
              width={W}
              height={bottomH}
              focused={ui.focus === 'trace'}
            />
          )}
        </>
      );
    }
    body = ui.help ? (
      <Help
        preset={presetIndex(s.kernel)}
        offset={ui.helpScroll}
        workload={workload}
        description={model.description ?? ''}
        width={W}
        height={L.cma.height + bodyBelowCma}
      />
    ) : (
      <>
        {cma}
        {below}
      </>
    );
  }
  return (
    <Box flexDirection="column" width={W} height={L.height}>
      {status}
      {body}
      <HintLine ui={ui} width={W} />
    </Box>
  );
}

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

type UiEvent =
  | Action
  | { type: 'selectFailure'; index: number }
  | { type: 'notice'; text: string }
  | { type: 'restarted'; text: string };

function reduceUiEvent(s: UiState, e: UiEvent, ctx: UiContext): UiState {
  switch (e.type) {
    case 'selectFailure':
      return {
        ...s,
        failure: e.index,
        focus: 'failures',
        notice: 'paused at the next failure: enter for details',
      };
    case 'notice':
      return { ...s, notice: e.text };
    case 'restarted': {
      const { failure: _f, ...rest } = s;
      return { ...rest, detail: false, traceBack: 0, notice: e.text };
    }
    default: {
      const { notice: _n, ...rest } = s;
      return reduceUi(rest, e, ctx);
    }
  }
}

/** Everything the app holds, in one reducer: one React update per session event or key. */
export interface AppState {
  model: Model;
  ui: UiState;
  /** failures_total when '>' was pressed: the first failure after it gets selected */
  seekFrom?: number;
  /** the preset last asked for (p twice before the restart lands cycles on) */
  askedPreset?: number;
}

export type AppEvent =
  | ModelEvent
  | { type: 'ui'; event: UiEvent }
  | { type: 'seek'; from: number }
  | { type: 'preset'; index: number };

const uiContext = (m: Model, ui: UiState): UiContext => {
  const snap = m.frame?.snapshot;
  const list = snap?.failures ?? [];
  const ctx: UiContext = { failures: list.length, followed: defaultFailure(list) };
  if (!snap) return ctx;
  const rows = sortRows(filterRows(procRows(snap), ui.filters.processes), ui.sort);
  const pid = rows[Math.min(ui.procRow, rows.length - 1)]?.pid;
  return pid === undefined ? ctx : { ...ctx, selectedPid: pid };
};

export function reduceApp(s: AppState, e: AppEvent): AppState {
  switch (e.type) {
    case 'frame': {
      const model = reduceModel(s.model, e);
      if (model === s.model) return s; // nothing changed: no render
      const total = model.frame?.snapshot.failures_total ?? 0;
      if (s.seekFrom !== undefined && total > s.seekFrom) {
        const { seekFrom: _done, ...rest } = s;
        const ui = reduceUiEvent(
          s.ui,
          { type: 'selectFailure', index: s.seekFrom },
          uiContext(model, s.ui),
        );
        return { ...rest, model, ui };
      }
      // `.` says which event it ran
      if (e.frame.step !== undefined)
        return {
          ...s,
          model,
          ui: reduceUiEvent(s.ui, { type: 'notice', text: e.frame.step }, uiContext(model, s.ui)),
        };
      return { ...s, model };
    }
    case 'started': {
      const model = reduceModel(s.model, e);
      if (e.reason === 'start') {
        // what the workload is, until the first key
        if (!e.description) return { ...s, model };
        const text = `${e.workload}: ${e.description}`;
        return {
          ...s,
          model,
          ui: reduceUiEvent(s.ui, { type: 'notice', text }, uiContext(model, s.ui)),
        };
      }
      const p = s.askedPreset;
      const text =
        e.reason === 'reload'
          ? 'the workload changed: reloaded, at t = 0'
          : `restarted at t = 0${p === undefined ? '' : ` under preset ${PRESETS[p]!.name}`}`;
      const { seekFrom: _dropped, ...rest } = s;
      return {
        ...rest,
        model,
        ui: reduceUiEvent(s.ui, { type: 'restarted', text }, uiContext(model, s.ui)),
      };
    }
    case 'error': {
      // a failed restart did not happen: the frames say where we are
      const { askedPreset: _gone, ...rest } = s;
      return { ...rest, model: reduceModel(s.model, e) };
    }
    case 'ui':
      return { ...s, ui: reduceUiEvent(s.ui, e.event, uiContext(s.model, s.ui)) };
    case 'seek':
      return {
        ...s,
        seekFrom: e.from,
        ui: reduceUiEvent(
          s.ui,
          { type: 'notice', text: 'running to the next failure…' },
          uiContext(s.model, s.ui),
        ),
      };
    case 'preset': {
      const preset = PRESETS[e.index]!;
      const text = `restarting under preset ${e.index + 1}/${PRESETS.length} ${preset.name} (same seed, t = 0)…`;
      return {
        ...s,
        askedPreset: e.index,
        ui: reduceUiEvent(s.ui, { type: 'notice', text }, uiContext(s.model, s.ui)),
      };
    }
  }
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
