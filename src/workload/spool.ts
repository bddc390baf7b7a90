// The run's trace and kernel log on their way to cmascope (`run --trace`, `--dmesg`): every record
// is formatted in the worker as it is emitted, and the text goes out in batches, so that a run of
// millions of records sends a few hundred messages, each before the snapshot that follows it.
import type { Kernel } from '../kernel/kernel.js';
import { ftraceLine } from '../kernel/observe/ftrace.js';
import { dmesgLine } from '../kernel/observe/printk.js';
import type { HostMessage, RunRequest } from './protocol.js';

/** Characters of text per message. */
const BATCH_CHARS = 1 << 20;

/** Sets the kernel's sinks for what `req` asks; returns what sends the text gathered so far. */
export function spool(k: Kernel, req: RunRequest, post: (m: HostMessage) => void): () => void {
  let trace = '';
  let records = 0;
  let dmesg = '';
  const flush = () => {
    if (records > 0) post({ type: 'trace', text: trace, records });
    if (dmesg) post({ type: 'dmesg', text: dmesg });
    trace = '';
    records = 0;
    dmesg = '';
  };
  if (req.trace) {
    const wanted = new Set(req.trace);
    k.trace.sink = (r) => {
      if (!wanted.has(r.name)) return;
      trace += ftraceLine(k.trace, r);
      records++;
      if (trace.length >= BATCH_CHARS) flush();
    };
  }
  if (req.dmesg)
    k.printkLog.sink = (r) => {
      dmesg += `${dmesgLine(r)}\n`;
      if (dmesg.length >= BATCH_CHARS) flush();
    };
  return flush;
}
