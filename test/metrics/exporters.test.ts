// The exporter contract every format keeps (src/metrics/exporters.ts).
import { describe, expect, it } from 'vitest';
import { exporter, FORMATS, type Format } from '../../src/metrics/exporters.js';
import { emit, run } from './fixture.js';

describe('exporter()', () => {
  it('knows every format and refuses others', () => {
    expect([...FORMATS]).toEqual(['ndjson', 'json', 'csv', 'prom', 'openmetrics', 'text']);
    expect(() => exporter('yaml' as Format)).toThrow(/unknown format 'yaml'/);
  });

  it('gives byte-identical output for the same workload and seed, and leaves snapshots alone', () => {
    const a = run();
    const b = run();
    const snaps = () => JSON.stringify([a.intervals, a.final]);
    const before = snaps();
    for (const f of FORMATS) {
      const out = emit(f, a);
      expect(out, f).toBe(emit(f, b));
      expect(out.endsWith('\n'), f).toBe(true);
      expect(out, f).not.toMatch(/undefined|\[object Object\]/);
    }
    expect(snaps()).toBe(before);
  });

  it('keeps no state between instances', () => {
    const r = run({ everyNs: 10e9 });
    for (const f of FORMATS) {
      const e = exporter(f);
      e.begin();
      for (const s of r.intervals) e.snapshot(s);
      e.end(r.final);
      expect(emit(f, r), f).toBe(emit(f, r));
    }
  });
});
