// Where the panels below the CMA areas go, and how far a run's error panel grows into them.
import { describe, expect, test } from 'vitest';
import { belowCma, bodyHeight, computeLayout, panelsBelowCma } from '../../src/tui/layout.js';

describe('panels below the CMA areas', () => {
  // 40 rows: a body of 37 = CMA 11 + middle 15 + trace 11
  const stacked = computeLayout({ columns: 100, rows: 40 }, { areas: 1, processes: 3 });
  const side = computeLayout({ columns: 160, rows: 40 }, { areas: 1, processes: 3 });

  test('without an error: the layout as computed, the table as tall as its rows', () => {
    expect(bodyHeight(stacked)).toBe(37);
    expect(belowCma(stacked)).toBe(26);
    expect(panelsBelowCma(stacked)).toEqual({
      middle: { height: 15, side: false },
      processes: { width: 100, height: 6 },
      failures: { width: 100, height: 9 },
      bottom: { width: 100, height: 11 },
    });
    expect(panelsBelowCma(side)).toEqual({
      middle: { height: 15, side: true },
      processes: { width: 88, height: 15 },
      failures: { width: 72, height: 15 },
      bottom: { width: 160, height: 11 },
    });
  });

  test('an error panel takes the rows it needs from the middle, leaving it 5', () => {
    // shorter than the trace: the trace's rows
    expect(panelsBelowCma(stacked, 4).bottom.height).toBe(11);
    expect(panelsBelowCma(stacked, 20)).toEqual({
      middle: { height: 6, side: false },
      processes: { width: 100, height: 6 },
      failures: { width: 100, height: 0 },
      bottom: { width: 100, height: 20 },
    });
    expect(panelsBelowCma(stacked, 30)).toEqual({
      middle: { height: 5, side: false },
      processes: { width: 100, height: 5 },
      failures: { width: 100, height: 0 },
      bottom: { width: 100, height: 21 },
    });
    expect(panelsBelowCma(side, 20)).toEqual({
      middle: { height: 6, side: true },
      processes: { width: 88, height: 6 },
      failures: { width: 72, height: 6 },
      bottom: { width: 160, height: 20 },
    });
  });
});
