// openmetrics with --interval: every snapshot, timestamped from the fixed epoch, grouped by family
// and series so that promtool's backfill (create-blocks-from openmetrics) takes it whole.
import { describe, expect, it } from 'vitest';
import { exporter } from '../../src/metrics/exporters.js';
import { EPOCH_S, omTimestamp } from '../../src/metrics/exposition.js';
import { families } from '../../src/metrics/families.js';
import { openMetricsProblems, pythonOpenMetricsCheck } from './exposition-rules.js';
import { defaultRun, type Run } from './fixture.js';

const S = 1e9;

/** begin(), every interval snapshot, end(final): what `run -f openmetrics --interval` writes. */
function series(r: Pick<Run, 'intervals' | 'final'>): string {
  const e = exporter('openmetrics', { intervals: true });
  let out = e.begin();
  for (const s of r.intervals) out += e.snapshot(s);
  return out + e.end(r.final);
}

const linesOf = (text: string, name: string) =>
  text.split('\n').filter((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));

describe('omTimestamp', () => {
  it('is 2023-01-01T00:00:00Z plus the simulated time, to the nanosecond', () => {
    expect(new Date(EPOCH_S * 1000).toISOString()).toBe('2023-01-01T00:00:00.000Z');
    expect(omTimestamp(0)).toBe('1672531200');
    expect(omTimestamp(600 * S)).toBe('1672531800');
    expect(omTimestamp(1.5 * S)).toBe('1672531201.5');
    expect(omTimestamp(5 * S + 25_000_000)).toBe('1672531205.025');
    expect(omTimestamp(123_456_789)).toBe('1672531200.123456789');
    expect(omTimestamp(86_400 * S + 1)).toBe('1672617600.000000001');
  });
});

describe('openmetrics with intervals', () => {
  it('lists every snapshot of each series in time order, the final one replacing the last', () => {
    const r = defaultRun(); // every 2 s to 20 s; the final snapshot is at 20 s too
    const text = series(r);
    const times = [2, 4, 6, 8, 10, 12, 14, 16, 18, 20];
    expect(linesOf(text, 'cmascope_vmstat_cma_alloc_fail_total')).toEqual([
      'cmascope_vmstat_cma_alloc_fail_total 0 1672531202',
      'cmascope_vmstat_cma_alloc_fail_total 0 1672531204',
      ...[6, 8, 10, 12, 14, 16, 18, 20].map(
        (t) => `cmascope_vmstat_cma_alloc_fail_total 1 ${EPOCH_S + t}`,
      ),
    ]);
    expect(linesOf(text, 'cmascope_sim_time_seconds')).toEqual(
      times.map((t) => `cmascope_sim_time_seconds ${t} ${EPOCH_S + t}`),
    );
    // the series of a family one after another, each whole: 16384 pages pinned in CMA until the
    // TEE client closes its shm at 10 s
    expect(linesOf(text, 'cmascope_cma_pages').slice(0, 11)).toEqual([
      ...times.map(
        (t) =>
          `cmascope_cma_pages{area="svp",state="free"} ${t <= 10 ? 49152 : 65536} ${EPOCH_S + t}`,
      ),
      'cmascope_cma_pages{area="svp",state="cma_client"} 0 1672531202',
    ]);
    expect(text.endsWith('\n# EOF\n')).toBe(true);
  });

  it('has each family once, with the metadata of the single-snapshot output', () => {
    const r = defaultRun();
    const text = series(r);
    const meta = (t: string) => t.split('\n').filter((l) => /^# (HELP|TYPE|UNIT) /.test(l));
    expect(meta(text)).toEqual(meta(exporter('openmetrics').end(r.final)));
    const samples = text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    const perSnapshot = r.intervals.map((s) =>
      families(s).reduce((n, f) => n + f.samples.length, 0),
    );
    expect(samples).toHaveLength(perSnapshot.reduce((a, b) => a + b, 0));
  });

  it('adds the final snapshot when it is later than the last interval', () => {
    const r = defaultRun();
    const text = series({ intervals: r.intervals.slice(0, 2), final: r.final });
    expect(linesOf(text, 'cmascope_sim_time_seconds')).toEqual([
      'cmascope_sim_time_seconds 2 1672531202',
      'cmascope_sim_time_seconds 4 1672531204',
      'cmascope_sim_time_seconds 20 1672531220',
    ]);
  });

  it('passes the OpenMetrics rules, and the strict Python parser where it is installed', () => {
    const text = series(defaultRun());
    expect(openMetricsProblems(text)).toEqual([]);
    const py = pythonOpenMetricsCheck(text);
    if (py || process.env.CI) {
      expect(py, 'apt-get install python3-prometheus-client').toBeDefined();
      const count = (re: RegExp) => text.split('\n').filter((l) => re.test(l)).length;
      expect(py!.output).toBe(`${count(/^# TYPE /)} ${count(/^[a-z]/)}`);
    }
  });

  it('writes what it has when the run ends without a final snapshot', () => {
    const r = defaultRun();
    const e = exporter('openmetrics', { intervals: true });
    expect(e.abort()).toBe('');
    e.snapshot(r.intervals[0]!);
    e.snapshot(r.intervals[1]!);
    const text = e.abort();
    expect(linesOf(text, 'cmascope_sim_time_seconds')).toEqual([
      'cmascope_sim_time_seconds 2 1672531202',
      'cmascope_sim_time_seconds 4 1672531204',
    ]);
    expect(openMetricsProblems(text)).toEqual([]);
  });

  it('without intervals stays the final snapshot, untimestamped', () => {
    const r = defaultRun();
    const e = exporter('openmetrics');
    expect(e.end(r.final)).not.toMatch(/ 1672531\d+$/m);
  });
});
