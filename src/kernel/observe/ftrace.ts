// The trace as tracefs prints it (kernel/trace/trace.c, trace_output.c): each record as
// trace_print_context() and the event's output function write it, and the header of the `trace`
// file; and event selection as `trace-cmd record -e` / set_event read it.
import { printTimestamp } from './printk.js';
import { type Sink, Text } from './sink.js';
import { EVENTS, TRACE_NAMES, type TraceLog, type TraceName, type TraceRecord } from './trace.js';

/** A comm is at most 15 characters and its NUL. */
const TASK_COMM_LEN = 16;

/**
 * `%16s-%-7d [%03d] %c%c%c%c%c %5lu.%06lu: name: fields`. One CPU; the five latency flags
 * (irqs-off, need-resched, hardirq/softirq, preempt-depth, migrate-disable) of a tracepoint in
 * sleepable process context are all clear: `.....`. The event is printed by name, without its
 * system (trace_raw_output_prep).
 */
export function printFtraceLine(o: Sink, log: TraceLog, r: TraceRecord): void {
  printTimestamp(o.put(context(r.comm, r.pid)), r.t).put(NAMES[r.name]);
  log.print(o, r);
  o.str('\n');
}

/** `: name: ` of each event, made once. */
const NAMES: { [N in TraceName]: Text } = Object.fromEntries(
  TRACE_NAMES.map((n) => [n, new Text(`: ${n}: `)]),
) as never;

/** `%16s-%-7d [000] ..... ` of a task (trace_print_context), made once per task. */
const contexts = new Map<number, { comm: string; text: Text }>();
function context(comm: string, pid: number): Text {
  const c = contexts.get(pid);
  if (c !== undefined && c.comm === comm) return c.text;
  const text = new Text(
    `${comm.slice(0, TASK_COMM_LEN - 1).padStart(16)}-${String(pid).padEnd(7)} [000] ..... `,
  );
  contexts.set(pid, { comm, text });
  return text;
}

/** The `trace` file's header for the nop tracer (print_trace_header, print_func_help_header_irq). */
export const ftraceHeader = (entries: number): string =>
  `# tracer: nop
#
# entries-in-buffer/entries-written: ${entries}/${entries}   #P:1
#
#                                _-----=> irqs-off/BH-disabled
#                               / _----=> need-resched
#                              | / _---=> hardirq/softirq
#                              || / _--=> preempt-depth
#                              ||| / _-=> migrate-disable
#                              |||| /     delay
#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION
#              | |         |   |||||     |         |
`;

/**
 * The events a list of selectors names, as `trace-cmd record -e`: `system:event`, `system:*`,
 * `system` alone, `event` alone, `*` or `*:*`. Throws, naming it, on a selector that matches none.
 */
export function selectEvents(selectors: readonly string[]): TraceName[] {
  const out = new Set<TraceName>();
  for (const sel of selectors) {
    const [a, b] = sel.includes(':') ? sel.split(':', 2) : [undefined, sel];
    const hits = TRACE_NAMES.filter((n) => {
      const sys = EVENTS[n].system;
      if (a === undefined) return b === '*' || b === n || b === sys;
      return (a === '*' || a === sys) && (b === '*' || b === '' || b === n);
    });
    if (hits.length === 0)
      throw new Error(
        `unknown trace event '${sel}': the model has ${TRACE_NAMES.map((n) => `${EVENTS[n].system}:${n}`).join(', ')}`,
      );
    for (const n of hits) out.add(n);
  }
  return TRACE_NAMES.filter((n) => out.has(n));
}
