// The TUI's history of free CMA per area (src/tui/model.ts) keeps every area by its own name,
// '__proto__' included (issue #13).
import { describe, expect, it } from 'vitest';
import { addSample, emptyHistory, freeHistory } from '../../src/tui/model.js';
import { frame } from './helpers.js';

describe('free CMA history', () => {
  it("keeps an area named '__proto__' like any other", () => {
    const f = frame('upstream-failure');
    const svp = f.snapshot.cma.svp!;
    // JSON.parse makes '__proto__' an own key, as a snapshot read from NDJSON has it
    const renamed = JSON.parse(`{"__proto__":${JSON.stringify(svp)}}`) as typeof f.snapshot.cma;
    const at = (t: number) => ({ ...f, snapshot: { ...f.snapshot, simTimeNs: t, cma: renamed } });
    const h = addSample(addSample(emptyHistory(), at(1)), at(2));
    expect(Object.keys(h.free)).toEqual(['__proto__']);
    expect(freeHistory(h, '__proto__')).toEqual([svp.pages_by_state.free, svp.pages_by_state.free]);
    expect(freeHistory(h, 'svp')).toEqual([]);
  });
});
