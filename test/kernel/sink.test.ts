// The two sinks of the trace's formats print the same text: the TUI's strings and the bytes of
// `run --trace`, whatever the numbers and whatever a comm or a name holds.
import { describe, expect, it } from 'vitest';
import { printFtraceLine } from '../../src/kernel/observe/ftrace.js';
import { ByteSink, type Sink, sprint, Text } from '../../src/kernel/observe/sink.js';
import { TraceLog, type TraceRecord } from '../../src/kernel/observe/trace.js';

const NUMBERS = [0, 1, 9, 10, 15, 16, 999_999, 2 ** 31 - 1, 2 ** 31, 2 ** 32 + 5, 2 ** 40 + 3];
const STRINGS = [
  'svp',
  '',
  'ñ',
  'a-very-long-comm-name',
  'ünïcødé',
  '日本語のタスク名',
  '😀x',
  '\ud800',
];

function conversions(o: Sink): void {
  for (const n of NUMBERS) o.dec(n).dec(-n).dec(n, 6).hex(n).hex(n, 10).lx(n).lx(-1);
  for (const s of STRINGS) o.str(s).put(new Text(s));
}

describe('ByteSink', () => {
  it('writes every conversion as StringSink does, in UTF-8, growing as needed', () => {
    const o = new ByteSink(8);
    conversions(o);
    conversions(o); // long strings the second time from their cached UTF-8
    // as the text would have been written (a lone surrogate as U+FFFD)
    expect(Buffer.from(o.take())).toEqual(Buffer.from(sprint(conversions).repeat(2)));
    expect(o.length).toBe(0);
  });

  it('writes an ftrace line: the context, the timestamp and TraceLog.body()', () => {
    for (const v of ['6.18', '6.4'] as const) {
      const log = new TraceLog(v);
      const r: TraceRecord = {
        t: 12_345_678_901,
        pid: 4242,
        comm: 'ünïcødé-worker-thread',
        name: 'cma_alloc_start',
        fields: { name: 'svp', request_count: 8, available_count: 9, total_count: 10, align: 0 },
      };
      const o = new ByteSink(1 << 10);
      printFtraceLine(o, log, r);
      expect(Buffer.from(o.take()).toString('utf8')).toBe(
        ` ünïcødé-worker--4242    [000] .....    12.345678: cma_alloc_start: ${log.body(r)}\n`,
      );
    }
  });
});
