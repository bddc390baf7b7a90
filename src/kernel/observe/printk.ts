// The kernel log: printk's ring buffer of (time, level, text) records, read as dmesg prints them.
// Apart from the trace: a message is not a tracepoint, and counts no trace event.
import { Ring } from './ring.js';
import { type Sink, sprint } from './sink.js';

/** Console log levels (include/linux/kern_levels.h). */
export const KERN_ERR = 3;
export const KERN_WARNING = 4;
export const KERN_INFO = 6;
/** a pr_cont that starts a record: MESSAGE_LOGLEVEL_DEFAULT */
export const KERN_DEFAULT = 4;

export interface PrintkRecord {
  /** simulated time, ns */
  t: number;
  level: number;
  text: string;
  /** trace records emitted before it: where it falls among them (the TUI shows both) */
  afterTrace: number;
}

/** `%5lu.%06lu` of a time in ns, as printk and ftrace print timestamps (truncated to µs). */
export function printTimestamp(o: Sink, ns: number): Sink {
  const us = Math.floor(ns / 1e3);
  const sec = Math.floor(us / 1e6);
  // records come in time order: the seconds part is made once per second (the hot path of --trace)
  if (sec !== lastSec) {
    lastSec = sec;
    secText = `${String(sec).padStart(5)}.`;
  }
  return o.str(secText).dec(us - sec * 1e6, 6);
}
let lastSec = -1;
let secText = '';

/** The same, as a string. */
export const timestamp = (ns: number): string => sprint((o) => printTimestamp(o, ns));

/** `[%5lu.%06lu]` of a time in ns, as dmesg prints it. */
export const printkTime = (ns: number): string => `[${timestamp(ns)}]`;

/** One dmesg line (no newline). */
export const dmesgLine = (r: PrintkRecord): string => `${printkTime(r.t)} ${r.text}`;

export class PrintkLog {
  private readonly ring: Ring<PrintkRecord>;
  /** sees every record as it is logged */
  sink: ((r: PrintkRecord) => void) | undefined;

  constructor(capacity = 4096) {
    this.ring = new Ring(capacity);
  }

  log(r: PrintkRecord): void {
    this.ring.push(r);
    this.sink?.(r);
  }

  /** The records kept, oldest first. */
  records(): PrintkRecord[] {
    return this.ring.records();
  }

  /** The messages kept, oldest first (texts only). */
  texts(): string[] {
    return this.records().map((r) => r.text);
  }
}
