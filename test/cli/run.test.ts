// `cmascope run` as a user runs it: every format checked (JSON Schema, CSV, promtool, text),
// byte-identical repeats, --fail-on, -o, and a reader that closes the pipe early.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Format } from '../../src/metrics/exporters.js';
import type { Snapshot } from '../../src/metrics/snapshot.js';
import {
  hasPromtool,
  openMetricsProblems,
  prometheusProblems,
  promtoolCheck,
} from '../metrics/exposition-rules.js';
import { type CliResult, cmascope, fixture, ROOT, workload } from './cli.js';

/** The default workload up to 40 s: a TEE pin, a failed and a successful playback, log lines. */
const RUN_FINAL = ['run', workload('secure-playback'), '--until', '40s'];
/** The same with a snapshot every 5 s, for the formats that write them (the others note it). */
const RUN = [...RUN_FINAL, '--interval', '5s'];
const runOf = (f: Format) => (['ndjson', 'json', 'csv'].includes(f) ? RUN : RUN_FINAL);
const FORMATS: Format[] = ['ndjson', 'json', 'csv', 'prom', 'openmetrics', 'text'];

const schema = JSON.parse(readFileSync(join(ROOT, 'docs', 'snapshot.schema.json'), 'utf8'));
const validate = new Ajv2020({ allErrors: true, strict: true }).compile(schema);

/** Two runs of each format, all at once: the format checks read the first of each pair. */
const outputs = {} as Record<Format, [CliResult, CliResult]>;
beforeAll(async () => {
  const runs = await Promise.all(
    FORMATS.flatMap((f) => [cmascope([...runOf(f), '-f', f]), cmascope([...runOf(f), '-f', f])]),
  );
  FORMATS.forEach((f, i) => {
    outputs[f] = [runs[2 * i]!, runs[2 * i + 1]!];
  });
}, 120_000);

const out = (f: Format) => {
  const [r] = outputs[f];
  expect(r.stderr).toBe('');
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
};

/** Where two outputs first differ (a short message, not two whole outputs). */
function firstDifference(a: string, b: string): string {
  if (a === b) return 'identical';
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  return `differ at byte ${i}: ${JSON.stringify(a.slice(i, i + 80))} vs ${JSON.stringify(b.slice(i, i + 80))}`;
}

/** RFC 4180 records: fields, quotes doubled, CRLF between records. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else field += c;
  }
  expect(field, 'the last record ends with CRLF').toBe('');
  return rows;
}

// promtool is required where CI is set; elsewhere its checks are skipped when it is missing
// (as in test/metrics/prom.test.ts)
const withPromtool = it.skipIf(!hasPromtool() && !process.env.CI);

describe('cmascope run --format', () => {
  it('ndjson: one line per interval snapshot and the final one, each valid against docs/snapshot.schema.json', () => {
    const lines = out('ndjson').split('\n');
    expect(lines.pop()).toBe(''); // ends with a newline
    expect(lines).toHaveLength(9); // 5 s … 40 s, then the final snapshot (at 40 s too)
    const snaps = lines.map((l) => JSON.parse(l) as Snapshot);
    for (const s of snaps) {
      expect(validate(s), JSON.stringify(validate.errors)).toBe(true);
    }
    expect(snaps.map((s) => s.simTimeNs / 1e9)).toEqual([5, 10, 15, 20, 25, 30, 35, 40, 40]);
    expect(snaps.at(-1)!.results).toMatchObject({
      tee_register: 'ok',
      playback_start: 'ENOMEM',
    });
  });

  it('json: one array, the final snapshot replacing the interval one at the same instant', () => {
    const text = out('json');
    const all = JSON.parse(text) as Snapshot[];
    expect(Array.isArray(all)).toBe(true);
    expect(all).toHaveLength(8);
    for (const s of all) expect(validate(s), JSON.stringify(validate.errors)).toBe(true);
    expect(text).toBe(`${JSON.stringify(all, null, 2)}\n`);
    // the same final snapshot as ndjson's last line
    expect(all.at(-1)).toEqual(JSON.parse(out('ndjson').trimEnd().split('\n').at(-1)!));
  });

  it('csv: a header and one row per snapshot, every row as wide as the header', () => {
    const rows = parseCsv(out('csv'));
    const [header, ...data] = rows;
    expect(header!.slice(0, 3)).toEqual(['simTimeNs', 'meminfo.MemTotal', 'meminfo.MemFree']);
    expect(header).toContain('cma.svp.alloc_pages_fail');
    expect(header).toContain('results.playback_start');
    expect(header!.at(-1)).toBe('logs');
    expect(data).toHaveLength(8);
    for (const r of data) expect(r).toHaveLength(header!.length);
    expect(data.map((r) => r[0])).toEqual(
      [5, 10, 15, 20, 25, 30, 35, 40].map((s) => String(s * 1e9)),
    );
    const col = header!.indexOf('results.playback_start');
    expect(data.map((r) => r[col])).toEqual(['', ...Array(7).fill('ENOMEM')]);
  });

  it('prom: the final snapshot in text format 0.0.4, by rule', () => {
    const text = out('prom');
    expect(prometheusProblems(text)).toEqual([]);
    const lines = new Set(text.split('\n'));
    for (const line of [
      '# TYPE cmascope_vmstat_cma_alloc_fail_total counter',
      'cmascope_vmstat_cma_alloc_fail_total 2', // at 5 s and at 36 s
      'cmascope_result_info{key="playback_start",value="ENOMEM"} 1',
    ])
      expect(lines.has(line), line).toBe(true);
  });

  withPromtool('prom passes promtool check metrics', () => {
    const r = promtoolCheck(out('prom'));
    expect(r, 'promtool not found: apt-get install prometheus').toBeDefined();
    expect(r!.output).toBe('');
    expect(r!.status).toBe(0);
  });

  it('openmetrics: OpenMetrics 1.0.0 by rule, ending with # EOF', () => {
    const text = out('openmetrics');
    expect(openMetricsProblems(text)).toEqual([]);
    expect(text.endsWith('# EOF\n')).toBe(true);
  });

  // promtool lints 0.0.4: an OpenMetrics counter sample `x_total` under `# TYPE x counter` is to
  // it an untyped family without HELP. That, for each counter, is all it may report.
  withPromtool('openmetrics parses with promtool, which reports only the counter naming', () => {
    const text = out('openmetrics');
    const r = promtoolCheck(text);
    expect(r, 'promtool not found: apt-get install prometheus').toBeDefined();
    const counters = [...text.matchAll(/^# TYPE (\S+) counter$/gm)]
      .map((m) => `${m[1]}_total no help text`)
      .sort();
    expect(counters.length).toBeGreaterThan(0);
    expect(r!.output.split('\n').filter(Boolean).sort()).toEqual(counters);
    expect(r!.status).toBe(3); // lint findings; 1 would be a parse error
  });

  it('text: the report of the final snapshot', () => {
    const text = out('text');
    expect(text.split('\n')[0]).toBe('cmascope report (schema cmascope/1)');
    expect(text).toContain('workload  secure-playback  seed 1\n');
    expect(text).toContain('sim time  40.000s\n');
    expect(text).toMatch(
      /t=5\.\d{3}s cma_alloc svp 51200 pages EBUSY: pfn 0x[0-9a-f]+ held by drm-client\[\d+\] via tee_shm/,
    );
    expect(text).toContain('  playback_start = ENOMEM\n');
  });

  it.each(FORMATS)('%s: the same seed gives byte-identical output', (f) => {
    const [a, b] = outputs[f];
    expect([a.code, b.code], a.stderr + b.stderr).toEqual([0, 0]);
    expect(firstDifference(a.stdout, b.stdout)).toBe('identical');
    expect(a.stdout.length).toBeGreaterThan(0);
  });
});

describe('cmascope run --fail-on, -o, and closed pipes', () => {
  it('--fail-on: exit 3 and one stderr line per condition met; 0 when none is; 2 for a bad expression', async () => {
    const [met, notMet, bad, unknown] = await Promise.all([
      cmascope([
        ...RUN,
        '-f',
        'json',
        '--fail-on',
        'cma_alloc_fail>0',
        '--fail-on',
        'results.playback_start==ENOMEM',
      ]),
      cmascope([...RUN, '-f', 'json', '--fail-on', 'cma_alloc_fail>5']),
      cmascope([...RUN_FINAL, '--fail-on', 'cma_alloc_fail>>0']),
      cmascope([...RUN_FINAL, '--fail-on', 'no_such_counter>0']),
    ]);
    expect(met.code).toBe(3);
    expect(met.stderr).toBe(
      'cmascope: --fail-on cma_alloc_fail>0: condition met\n' +
        'cmascope: --fail-on results.playback_start==ENOMEM: condition met\n',
    );
    expect(JSON.parse(met.stdout)).toHaveLength(8); // the data is still complete
    expect(notMet.code).toBe(0);
    expect(notMet.stderr).toBe('');
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toBe(
      "cmascope: invalid --fail-on 'cma_alloc_fail>>0': expected <name><op><value> with op one of >= <= == != > <, e.g. cma_alloc_fail>0\n",
    );
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe(
      "cmascope: --fail-on 'no_such_counter>0': 'no_such_counter' is not in the snapshot (see docs/snapshot.md)\n",
    );
  });

  it('-o writes the data to the file and nothing to stdout; an unwritable path exits 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cmascope-cli-'));
    const file = join(dir, 'run.ndjson');
    const [r, bad] = await Promise.all([
      cmascope([...RUN, '-f', 'ndjson', '-o', file]),
      cmascope([...RUN, '-f', 'ndjson', '-o', join(dir, 'no', 'such', 'dir', 'x.ndjson')]),
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('');
    expect(firstDifference(readFileSync(file, 'utf8'), out('ndjson'))).toBe('identical');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(
      /^cmascope: cannot write -o .*x\.ndjson: ENOENT: no such file or directory/,
    );
    expect(bad.stderr.trimEnd().split('\n')).toHaveLength(1);
    rmSync(dir, { recursive: true, force: true });
  });

  it('a reader that closes the pipe early (| head -1): exit 0, nothing on stderr', async () => {
    const runs = await Promise.all([
      cmascope(['run', workload('secure-playback'), '-f', 'ndjson', '--interval', '100ms'], {
        closeStdoutEarly: true,
      }),
      cmascope(['run', workload('secure-playback'), '-f', 'csv', '--interval', '1s'], {
        closeStdoutEarly: true,
      }),
    ]);
    for (const r of runs) {
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    }
  });

  it('check: a valid workload', async () => {
    const r = await cmascope(['check', workload('mtk-secure-region')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      'cmascope: workloads/mtk-secure-region.ts is valid: One pinned page anywhere in a 384 MiB whole-region secure heap stops secure playback\n',
    );
  });

  it('check: an invalid workload, with its location', async () => {
    const r = await cmascope(['check', fixture('cma-overlap.ts')]);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe(
      "cmascope: test/cli/fixtures/cma-overlap.ts:9:15: ConfigError: CMA areas 'svp' and 'camera' overlap",
    );
  });
});
