// The screen: everything drawn, from the model and the UI state only (pure; app.tsx holds the
// state, the session and the keys). Where each panel goes and how big it is: layout.ts.
import { Box, Text } from 'ink';
import type { ReactNode } from 'react';
import { CmaPanel } from './cma-panel.js';
import { ErrorPanel, errorHeight } from './error-panel.js';
import { FailureDetail } from './failure-detail.js';
import { defaultFailure, FailuresPanel } from './failures-panel.js';
import { Help } from './help.js';
import {
  belowCma,
  bodyHeight,
  computeLayout,
  type Layout,
  MIN_COLUMNS,
  MIN_ROWS,
  panelsBelowCma,
  type Size,
} from './layout.js';
import type { Model } from './model.js';
import { presetIndex } from './presets.js';
import { ProcessDetail } from './process-detail.js';
import { ProcessesPanel } from './processes-panel.js';
import { HintLine, StatusLine } from './status-line.js';
import { type Theme, ThemeContext, useTheme } from './theme.js';
import { TracePanel } from './trace-panel.js';
import type { UiState } from './ui-state.js';

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

type BodyProps = Omit<ScreenProps, 'theme' | 'size'> & { L: Layout; workload: string };

function ScreenBody({ model, ui, size, cwd }: Omit<ScreenProps, 'theme'>) {
  const s = model.frame?.snapshot;
  const L = computeLayout(size, {
    areas: s ? Object.keys(s.cma).length : 1,
    processes: s?.processes.length ?? 0,
  });
  const workload = model.workload ?? s?.workload ?? '';
  const body = { model, ui, cwd, L, workload };
  return (
    <Box flexDirection="column" width={L.columns} height={L.height}>
      <StatusLine
        frame={model.frame}
        workload={workload}
        preset={presetIndex(s?.kernel)}
        speed={ui.speed}
        error={model.error !== undefined}
        stopped={model.stopped === true}
        width={L.columns}
      />
      {L.tooSmall ? (
        <TooSmall size={size} />
      ) : (
        <>
          {model.frame ? <RunBody {...body} /> : <NoRunBody {...body} />}
          <HintLine ui={ui} width={L.columns} />
        </>
      )}
    </Box>
  );
}

function TooSmall({ size }: { size: Size }) {
  const theme = useTheme();
  const x = theme.glyphs.times;
  return (
    <Text wrap="truncate-end" {...theme.style('warn')}>
      {`Terminal ${size.columns}${x}${size.rows} is smaller than ${MIN_COLUMNS}${x}${MIN_ROWS}: enlarge it (q quits).`}
    </Text>
  );
}

/** Before the first frame: the error of a workload that did not load, or a wait. */
function NoRunBody({ model, cwd, L, workload }: BodyProps) {
  const theme = useTheme();
  const height = bodyHeight(L);
  return model.error ? (
    <ErrorPanel
      error={model.error}
      cwd={cwd}
      hasRun={false}
      stopped={false}
      width={L.columns}
      height={height}
    />
  ) : (
    <Box height={height}>
      <Text {...theme.style('muted')}>{`Starting ${workload || 'the workload'}…`}</Text>
    </Box>
  );
}

/** A run on screen: the help, or the CMA areas above a drill-down or the panels. */
function RunBody(p: BodyProps) {
  const { model, ui, L } = p;
  const f = model.frame!;
  const s = f.snapshot;
  if (ui.help)
    return (
      <Help
        preset={presetIndex(s.kernel)}
        offset={ui.helpScroll}
        workload={p.workload}
        description={model.description ?? ''}
        width={L.columns}
        height={bodyHeight(L)}
      />
    );
  let below: ReactNode;
  if (ui.procDetail !== undefined) {
    below = (
      <ProcessDetail
        pid={ui.procDetail}
        snapshot={s}
        detail={f.proc?.pid === ui.procDetail ? f.proc : undefined}
        width={L.columns}
        height={belowCma(L)}
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
        width={L.columns}
        height={belowCma(L)}
        mapRows={Math.max(1, L.cma.mapRows)}
      />
    );
  } else below = <Panels {...p} />;
  return (
    <>
      <CmaPanel
        areas={s.cma}
        maps={f.view.maps}
        history={model.history}
        width={L.columns}
        height={L.cma.height}
        mapRows={L.cma.mapRows}
        histRows={L.cma.histRows}
        areasShown={L.cma.areas}
        offset={ui.areaOffset}
        focused={ui.focus === 'cma' && !ui.detail && ui.procDetail === undefined}
      />
      {below}
    </>
  );
}

/** Processes and failures (side by side when wide), and the trace or the run's error. */
function Panels({ model, ui, cwd, L }: BodyProps) {
  const f = model.frame!;
  const s = f.snapshot;
  const P = panelsBelowCma(L, model.error && errorHeight(model.error));
  return (
    <>
      <Box
        flexDirection={P.middle.side ? 'row' : 'column'}
        width={L.columns}
        height={P.middle.height}
      >
        <ProcessesPanel
          processes={s.processes}
          users={s.users}
          sort={ui.sort}
          filter={ui.filters.processes}
          row={ui.procRow}
          width={P.processes.width}
          height={P.processes.height}
          focused={ui.focus === 'processes'}
        />
        <FailuresPanel
          failures={s.failures}
          total={s.failures_total}
          processes={s.processes}
          results={s.results}
          selected={ui.failure}
          width={P.failures.width}
          height={P.failures.height}
          focused={ui.focus === 'failures'}
        />
      </Box>
      {model.error ? (
        <ErrorPanel
          error={model.error}
          cwd={cwd}
          hasRun
          stopped={model.stopped === true}
          width={P.bottom.width}
          height={P.bottom.height}
        />
      ) : (
        <TracePanel
          events={f.view.events}
          filter={ui.filters.trace}
          back={ui.traceBack}
          width={P.bottom.width}
          height={P.bottom.height}
          focused={ui.focus === 'trace'}
        />
      )}
    </>
  );
}
