// ndjson and json: the snapshot objects as they are; the final-snapshot rule; reload records; and
// the JSON conversion of recorded results.
import { describe, expect, it } from 'vitest';
import { exporter, reloadRecord } from '../../src/metrics/exporters.js';
import { jsonValue } from '../../src/metrics/json-value.js';
import { snapshot } from '../../src/metrics/snapshot.js';
import { Buf } from '../../src/workload/api.js';
import { defaultRun, emit, run, SEED, WORKLOAD } from './fixture.js';

describe('ndjson', () => {
  it('writes one compact line per snapshot that parses back to it, byte for byte', () => {
    const r = defaultRun();
    const out = emit('ndjson', r);
    expect(out.endsWith('\n')).toBe(true);
    const lines = out.slice(0, -1).split('\n');
    const all = [...r.intervals, r.final];
    expect(lines).toHaveLength(all.length);
    lines.forEach((line, i) => {
      const parsed = JSON.parse(line);
      expect(parsed).toEqual(all[i]);
      expect(JSON.stringify(parsed)).toBe(line);
      expect(
        line.startsWith('{"schema":"cmascope/1","workload":"exporters-fixture","seed":7,'),
      ).toBe(true);
      expect('event' in parsed).toBe(false);
    });
  });

  it('writes nothing in begin()', () => {
    expect(exporter('ndjson').begin()).toBe('');
  });

  it('reload records are ndjson lines with the schema and event first', () => {
    expect(reloadRecord({ file: 'w/secure.ts', hash: 'ab12' })).toBe(
      '{"schema":"cmascope/1","event":"reload","file":"w/secure.ts","hash":"ab12"}\n',
    );
    expect(reloadRecord({ file: 'a "b"\n.ts', hash: 'x', simTimeNs: 0 })).toBe(
      '{"schema":"cmascope/1","event":"reload","file":"a \\"b\\"\\n.ts","hash":"x","simTimeNs":0}\n',
    );
  });
});

describe('json', () => {
  it('is one pretty array: interval snapshots, the final one replacing an equal-time last one', () => {
    const r = defaultRun();
    expect(r.intervals.at(-1)!.simTimeNs).toBe(r.final.simTimeNs);
    const out = emit('json', r);
    const expected = [...r.intervals.slice(0, -1), r.final];
    expect(out).toBe(`${JSON.stringify(expected, null, 2)}\n`);
    const parsed = JSON.parse(out);
    expect(Array.isArray(parsed)).toBe(true);
    expect(parsed).toHaveLength(r.intervals.length);
    expect(parsed.at(-1)).toEqual(r.final);
  });

  it('appends the final snapshot when it is later than the last interval one', () => {
    // intervals at 3, 6 and 9 s; the run goes on to the shm close at about 10 s
    const r = run({ everyNs: 3e9, untilNs: 9e9 });
    const final = r.final;
    expect(final.simTimeNs).toBeGreaterThan(r.intervals.at(-1)!.simTimeNs);
    const out = emit('json', r);
    expect(JSON.parse(out)).toEqual([...r.intervals, final]);
    expect(out).toBe(`${JSON.stringify([...r.intervals, final], null, 2)}\n`);
  });

  it('streams one snapshot behind and is a valid array with the final snapshot alone', () => {
    const r = defaultRun();
    const e = exporter('json');
    expect(e.begin()).toBe('[');
    expect(e.snapshot(r.intervals[0]!)).toBe('');
    expect(e.snapshot(r.intervals[1]!)).not.toBe('');
    const only = exporter('json');
    expect(JSON.parse(only.begin() + only.end(r.final))).toEqual([r.final]);
  });
});

describe('results as JSON (json-value.ts)', () => {
  it('converts what JSON cannot hold, and never throws', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    const v = jsonValue({
      buf: new Buf(0x1000, 4096),
      nan: Number.NaN,
      inf: -Infinity,
      big: 2n ** 64n,
      undef: undefined,
      list: [undefined, 1],
      fn: function named() {},
      sym: Symbol('s'),
      map: new Map<unknown, unknown>([
        [1, 'one'],
        ['k', new Set([1, 2])],
      ]),
      typed: new Uint8Array([1, 2]),
      date: new Date(0),
      err: new RangeError('bad'),
      cyclic,
      proto: JSON.parse('{"__proto__":{"x":1}}'),
    });
    expect(v).toEqual({
      buf: { addr: 4096, len: 4096 },
      nan: 'NaN',
      inf: '-Infinity',
      big: '18446744073709551616',
      undef: null,
      list: [null, 1],
      fn: '[function named]',
      sym: 's',
      map: { '1': 'one', k: [1, 2] },
      typed: [1, 2],
      date: '1970-01-01T00:00:00.000Z',
      err: 'RangeError: bad',
      cyclic: { a: 1, self: '[circular]' },
      proto: JSON.parse('{"__proto__":{"x":1}}'),
    });
    expect(JSON.parse(JSON.stringify(v))).toEqual(v);
    expect(Object.getPrototypeOf((v as Record<string, object>).proto)).toBe(Object.prototype);
  });

  it('lets a snapshot of odd results round-trip through ndjson', () => {
    const { sim } = defaultRun();
    const s = snapshot(
      sim.k,
      {
        workload: WORKLOAD,
        seed: SEED,
        results: { n: 1n, f: () => 0, m: new Map([[1, 2]]) },
        logs: [],
      },
      0,
    );
    const line = exporter('ndjson').snapshot(s);
    expect(JSON.parse(line)).toEqual(s);
    expect(s.results).toEqual({ n: '1', f: '[function f]', m: { '1': 2 } });
  });
});
