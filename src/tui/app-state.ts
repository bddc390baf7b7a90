// The state of the app, apart from React: what the run showed (model.ts) and what the user
// changed (ui-state.ts), with the few facts that tie them (a '>' waiting for the next failure,
// the preset asked for). One pure reducer, run once per session event or key (app.tsx).
import { defaultFailure } from './failures-panel.js';
import type { Action } from './keys.js';
import { type Model, type ModelEvent, reduceModel } from './model.js';
import { PRESETS } from './presets.js';
import { filterRows, procRows, sortRows } from './process-table.js';
import { reduceUi, type UiContext, type UiState } from './ui-state.js';

export type UiEvent =
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
