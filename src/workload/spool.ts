// The run's trace and kernel log on their way to cmascope (`run --trace`, `--dmesg`): every record
// is formatted in the worker as it is emitted, and the text goes out in batches, so that a run of
// millions of records sends a few hundred messages, each before the snapshot that follows it. The
// trace is written as bytes and its buffer handed over with the message, not copied.
import type { Kernel } from '../kernel/kernel.js';
import { printFtraceLine } from '../kernel/observe/ftrace.js';
import { dmesgLine } from '../kernel/observe/printk.js';
import { ByteSink } from '../kernel/observe/sink.js';
import type { HostMessage, RunRequest } from './protocol.js';

/** Bytes of trace, or characters of kernel log, per message. */
export const BATCH = 1 << 20;

/** Where a batch of trace records is written: room for the record that takes it past BATCH. */
export const traceBatch = (): ByteSink => new ByteSink(BATCH + 4096);

/** Sets the kernel's sinks for what `req` asks; returns what sends the text gathered so far. */
export function spool(
  k: Kernel,
  req: RunRequest,
  post: (m: HostMessage, transfer?: ArrayBuffer[]) => void,
): () => void {
  const trace = traceBatch();
  let records = 0;
  let dmesg = '';
  const flush = () => {
    if (records > 0) {
      const bytes = trace.take();
      post({ type: 'trace', bytes, records }, [bytes.buffer as ArrayBuffer]);
    }
    if (dmesg) post({ type: 'dmesg', text: dmesg });
    records = 0;
    dmesg = '';
  };
  if (req.trace) {
    const wanted = new Set(req.trace);
    k.trace.sink = (r) => {
      if (!wanted.has(r.name)) return;
      printFtraceLine(trace, k.trace, r);
      records++;
      if (trace.length >= BATCH) flush();
    };
  }
  if (req.dmesg)
    k.printkLog.sink = (r) => {
      dmesg += `${dmesgLine(r)}\n`;
      if (dmesg.length >= BATCH) flush();
    };
  return flush;
}
