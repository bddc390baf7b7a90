// csv: RFC 4180, one row per snapshot with the final-snapshot rule, columns named by their path in
// the snapshot, logs since the previous row.
import { describe, expect, it } from 'vitest';
import { csvField } from '../../src/metrics/csv.js';
import { exporter } from '../../src/metrics/exporters.js';
import { defaultRun, emit, run } from './fixture.js';

/** A strict RFC 4180 reader: CRLF records, quoted fields with doubled quotes. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        const q = text.indexOf('"', i);
        if (q < 0) throw new Error('unterminated quote');
        field += text.slice(i, q);
        if (text[q + 1] === '"') {
          field += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
    } else {
      const m = /[,\r\n"]/.exec(text.slice(i));
      const end = m ? i + m.index : text.length;
      if (text[end] === '"' || text[end] === '\n') throw new Error(`bad character at ${end}`);
      field = text.slice(i, end);
      i = end;
    }
    row.push(field);
    if (text[i] === ',') {
      i++;
      continue;
    }
    if (text.startsWith('\r\n', i)) {
      rows.push(row);
      row = [];
      i += 2;
      if (i === text.length) return rows;
      continue;
    }
    throw new Error(`record does not end with CRLF at ${i}`);
  }
}

const table = (out: string) => {
  const [header, ...rows] = parseCsv(out);
  const col = (name: string) => {
    const i = header!.indexOf(name);
    if (i < 0) throw new Error(`no column ${name}`);
    return i;
  };
  const cell = (time: number, name: string) => {
    const row = rows.find((r) => r[0] === String(time));
    if (!row) throw new Error(`no row at ${time}`);
    return row[col(name)];
  };
  return { header: header!, rows, cell };
};

describe('csv', () => {
  it('has a header and one row per snapshot, the final one replacing the equal-time last', () => {
    const r = defaultRun();
    const out = emit('csv', r);
    const { header, rows } = table(out);
    expect(rows).toHaveLength(r.intervals.length); // 10: 2 s ... 20 s, the last being the final
    for (const row of rows) expect(row).toHaveLength(header.length);
    expect(rows.map((x) => x[0])).toEqual(r.intervals.map((s) => String(s.simTimeNs)));
    expect(header).toEqual([
      'simTimeNs',
      'meminfo.MemTotal',
      'meminfo.MemFree',
      'meminfo.CmaTotal',
      'meminfo.CmaFree',
      'vmstat.nr_free_pages',
      'vmstat.nr_free_cma',
      'vmstat.cma_alloc_success',
      'vmstat.cma_alloc_fail',
      'vmstat.pgmigrate_success',
      'vmstat.pgmigrate_fail',
      'vmstat.nr_foll_pin_acquired',
      'vmstat.nr_foll_pin_released',
      'cma.svp.base_pfn',
      'cma.svp.count',
      'cma.svp.order_per_bit',
      'cma.svp.used',
      'cma.svp.maxchunk',
      'cma.svp.total_pages',
      'cma.svp.available_pages',
      'cma.svp.alloc_pages_success',
      'cma.svp.alloc_pages_fail',
      'cma.svp.release_pages_success',
      'cma.svp.pages_by_state.free',
      'cma.svp.pages_by_state.cma_client',
      'cma.svp.pages_by_state.movable',
      'cma.svp.pages_by_state.pinned_short',
      'cma.svp.pages_by_state.pinned_long',
      'cma.svp.pages_by_state.isolated',
      'failures_total',
      'results.shm',
      'results.playback_start',
      'results.buffer_mib',
      'logs',
    ]);
  });

  it('has the exact cells: counters, objects as JSON, results recorded later empty before', () => {
    const out = emit('csv', defaultRun());
    const { cell } = table(out);
    expect(cell(4e9, 'vmstat.cma_alloc_fail')).toBe('0');
    expect(cell(6e9, 'vmstat.cma_alloc_fail')).toBe('1');
    expect(cell(6e9, 'cma.svp.alloc_pages_fail')).toBe('51200');
    expect(cell(6e9, 'cma.svp.pages_by_state.pinned_short')).toBe('16384');
    expect(cell(12e9, 'cma.svp.pages_by_state.pinned_short')).toBe('0');
    expect(cell(2e9, 'meminfo.CmaTotal')).toBe('262144');
    expect(cell(2e9, 'results.shm')).toBe('{"fd":4,"id":1}');
    expect(out).toContain(',"{""fd"":4,""id"":1}",');
    expect(cell(4e9, 'results.playback_start')).toBe('');
    expect(cell(6e9, 'results.playback_start')).toBe('ENOMEM');
    expect(cell(6e9, 'results.buffer_mib')).toBe('200');
    expect(cell(20e9, 'failures_total')).toBe('2');
  });

  it('puts the log messages since the previous row in the logs cell', () => {
    const out = emit('csv', defaultRun());
    const { cell, rows } = table(out);
    expect(cell(2e9, 'logs')).toBe('registered 64 MiB');
    expect(cell(4e9, 'logs')).toBe('');
    expect(cell(6e9, 'logs')).toBe('first allocation: ENOMEM');
    expect(cell(12e9, 'logs')).toBe('closed "shm", released');
    expect(out).toContain(',"closed ""shm"", released"\r\n');
    expect(rows.map((r) => r.at(-1)).filter(Boolean)).toHaveLength(3);
  });

  it('joins several messages with " | " and counts from the replaced row’s predecessor', () => {
    const r = run({ everyNs: 8e9, untilNs: 16e9 }); // rows at 8 and 16 s; final at 16 s
    const { cell, rows } = table(emit('csv', r));
    expect(rows).toHaveLength(2);
    expect(cell(8e9, 'logs')).toBe('registered 64 MiB | first allocation: ENOMEM');
    expect(cell(16e9, 'logs')).toBe('closed "shm", released');
  });

  it('leaves out the columns a kernel does not have (6.4: no release_pages_success)', () => {
    const { header } = table(emit('csv', run({ version: '6.4', everyNs: 10e9 })));
    expect(header).toContain('cma.svp.alloc_pages_fail');
    expect(header).not.toContain('cma.svp.release_pages_success');
  });

  it('writes everything at end() and nothing before', () => {
    const r = defaultRun();
    const e = exporter('csv');
    expect(e.begin()).toBe('');
    for (const s of r.intervals) expect(e.snapshot(s)).toBe('');
    expect(e.end(r.final).split('\r\n')).toHaveLength(r.intervals.length + 2);
  });

  it('quotes per RFC 4180', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('cr\r')).toBe('cr\\x0d'); // a control character, shown
    expect(csvField('esc\u001b[2J,nul\u0000')).toBe('"esc\\x1b[2J,nul\\x00"');
    expect(csvField('')).toBe('');
  });
});
