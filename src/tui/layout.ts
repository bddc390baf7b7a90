// Where the panels go for a terminal size. The root is one row shorter than the terminal (Ink 6
// clears the whole screen on every frame as tall as the terminal) and
// every panel has a fixed size, so nothing overflows at any size.
//
//   status line
//   CMA areas (map, legend, free ranges, history)          full width
//   processes | failures    (side by side when wide, stacked when not)
//   trace                                                    full width
//   key hints / filter prompt / notices

export const MIN_COLUMNS = 80;
export const MIN_ROWS = 24;
/** From this width on, processes and failures sit side by side. */
export const SIDE_BY_SIDE = 150;

export interface Size {
  columns: number;
  rows: number;
}

export interface Rect {
  width: number;
  height: number;
}

export interface Layout {
  columns: number;
  /** the root box: rows - 1 */
  height: number;
  tooSmall: boolean;
  cma: Rect & { mapRows: number; histRows: number; areas: number };
  middle: { height: number; side: boolean; processes: Rect; failures: Rect };
  trace: Rect;
}

const clamp = (x: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, x));

/** Lines one CMA area takes inside its panel: header, map, legend, free ranges, history. */
export const areaLines = (mapRows: number, histRows: number): number => 3 + mapRows + histRows;

export function computeLayout(size: Size, content: { areas: number; processes: number }): Layout {
  const columns = Math.max(1, size.columns);
  const height = Math.max(1, size.rows - 1);
  const tooSmall = size.columns < MIN_COLUMNS || size.rows < MIN_ROWS;
  const body = Math.max(0, height - 2); // status line and key hints
  const side = columns >= SIDE_BY_SIDE;
  const minMiddle = side ? 7 : 10;

  let mapRows = clamp(Math.floor(body / 8), 2, 8);
  let histRows = clamp(Math.floor(body / 16), 1, 4);
  let areas = clamp(content.areas, 1, 8);
  let trace = clamp(Math.round(body * 0.3), 4, 20);
  const cmaHeight = () => 2 + areas * areaLines(mapRows, histRows);
  // give up detail until the processes and failures get their minimum
  for (;;) {
    if (body - cmaHeight() - trace >= minMiddle) break;
    if (areas > 1) areas--;
    else if (histRows > 1) histRows--;
    else if (mapRows > 1) mapRows--;
    else if (trace > 3) trace--;
    else break;
  }
  const cma = { width: columns, height: Math.min(body, cmaHeight()), mapRows, histRows, areas };
  const middleHeight = Math.max(0, body - cma.height - trace);
  let processes: Rect;
  let failures: Rect;
  if (side) {
    const pw = Math.min(110, Math.floor(columns * 0.55));
    processes = { width: pw, height: middleHeight };
    failures = { width: columns - pw, height: middleHeight };
  } else {
    // the table as tall as its rows (header and borders: 3), leaving the failures at least 4
    const ph = clamp(content.processes + 3, 5, Math.max(5, middleHeight - 4));
    processes = { width: columns, height: Math.min(ph, middleHeight) };
    failures = { width: columns, height: Math.max(0, middleHeight - processes.height) };
  }
  return {
    columns,
    height,
    tooSmall,
    cma,
    middle: { height: middleHeight, side, processes, failures },
    trace: { width: columns, height: Math.max(0, body - cma.height - middleHeight) },
  };
}

/** The rows of the body: everything between the status line and the key hints. */
export const bodyHeight = (L: Layout): number => L.cma.height + L.middle.height + L.trace.height;

/** The rows below the CMA panel (the overlays take them all). */
export const belowCma = (L: Layout): number => L.middle.height + L.trace.height;

export interface Panels {
  middle: { height: number; side: boolean };
  processes: Rect;
  failures: Rect;
  /** the trace, or the error panel in its place */
  bottom: Rect;
}

/**
 * Processes, failures and the trace below the CMA panel. An error panel (`errorRows` tall) takes
 * the trace's place and grows into the middle as far as it needs, leaving the middle 5 rows.
 */
export function panelsBelowCma(L: Layout, errorRows?: number): Panels {
  let middle = L.middle.height;
  let bottom = L.trace.height;
  if (errorRows !== undefined) {
    const want = Math.min(errorRows, Math.max(bottom, belowCma(L) - 5));
    middle -= Math.max(0, want - bottom);
    bottom = Math.max(bottom, want);
  }
  const { side, processes: p, failures: f } = L.middle;
  const ph = Math.min(p.height, middle);
  return {
    middle: { height: middle, side },
    processes: { width: p.width, height: side ? middle : ph },
    failures: { width: f.width, height: side ? middle : middle - ph },
    bottom: { width: L.columns, height: bottom },
  };
}
