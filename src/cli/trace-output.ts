// Where `run --trace` writes the trace. A regular file gets what tracefs's `trace` file shows: the
// header, whose entry count is known only at the end, then every record; the records wait in a
// temporary file beside it until then. Stdout (`-`), a FIFO or a device gets what `trace_pipe`
// streams: the records alone, as they come.
import { closeSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ftraceHeader } from '../kernel/observe/ftrace.js';
import { UsageError } from '../usage-error.js';
import { fileOutput, type Output, stdoutOutput, systemError, target } from './output.js';

export interface TraceOutput {
  /** Records as UTF-8 text, and how many. */
  write(bytes: Uint8Array, records: number): void;
  commit(): void;
  discard(): void;
}

const CHUNK = 1 << 20;

/** The trace streamed as is (trace_pipe). */
const streamed = (out: Output): TraceOutput => ({
  write: (bytes) => out.write(bytes),
  commit: () => out.commit(),
  discard: () => out.discard(),
});

export function traceOutput(path: string): TraceOutput {
  if (path === '-') return streamed(stdoutOutput);
  const out = fileOutput(path, '--trace');
  const t = target(path, '--trace');
  if (!t.regular) return streamed(out);
  const body = join(dirname(t.file), `.${basename(t.file)}.${process.pid}.records.tmp`);
  let fd: number;
  try {
    fd = openSync(body, 'wx+', 0o600);
  } catch (e) {
    out.discard();
    throw new UsageError(`cannot write --trace ${path}: ${systemError(e)}`);
  }
  let entries = 0;
  let open = true;
  const close = () => {
    if (!open) return;
    open = false;
    closeSync(fd);
    unlinkSync(body);
  };
  const fail = (e: unknown): never => {
    close();
    out.discard();
    throw new Error(`writing ${path}: ${(e as Error).message}; ${path} left as it was`);
  };
  return {
    write(bytes, records) {
      try {
        writeSync(fd, bytes);
      } catch (e) {
        fail(e);
      }
      entries += records;
    },
    commit() {
      try {
        out.write(ftraceHeader(entries));
        const buf = Buffer.allocUnsafe(CHUNK);
        for (let pos = 0, n = 1; n > 0; pos += n) {
          n = readSync(fd, buf, 0, CHUNK, pos);
          if (n > 0) out.write(buf.subarray(0, n));
        }
      } catch (e) {
        fail(e);
      }
      close();
      out.commit();
    },
    discard() {
      close();
      out.discard();
    },
  };
}
