// Start a workload in its own process (runner.ts, which runs it in a worker thread: thread.ts) and
// follow it: snapshots, the final result, or an error. A process, not only a thread: a fatal V8
// out-of-memory in any isolate aborts its whole process, and terminate() cannot stop a worker
// stuck in a native builtin (`new Array(2 ** 32 - 1).fill(0)`); either ends the workload's
// process, and cmascope reports it.
import { type ChildProcess, fork } from 'node:child_process';
import type { Socket } from 'node:net';
import { relative } from 'node:path';
import { builtWorkloadModule } from './built.js';
import { bundle, bundleError } from './bundle.js';
import type { Outcome, ProcessMessage, ProcessRequest, RunRequest } from './protocol.js';
import type { RunHandle, RunOptions } from './thread.js';

export type { Outcome } from './protocol.js';
export type { RunHandle, RunOptions } from './thread.js';

/** The run's process. */
const RUNNER = builtWorkloadModule('runner.js', import.meta.url);
const DEFAULT_HEAP_MB = 2048;
/** How much of the end of the process's stderr (V8's last words) is kept, to tell why it ended. */
const STDERR_TAIL = 8192;

interface Child {
  proc: ChildProcess;
  heapMb: number;
  /** the end of its stderr: never shown to the user */
  stderr: string;
}

function spawnChild(heapMb: number): Child {
  const proc = fork(RUNNER, [String(heapMb)], {
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    execArgv: [],
  });
  const child = { proc, heapMb, stderr: '' };
  proc.stderr!.setEncoding('utf8');
  proc.stderr!.on('data', (s: string) => {
    child.stderr = (child.stderr + s).slice(-STDERR_TAIL);
  });
  return child;
}

const alive = (c: Child) => c.proc.exitCode === null && c.proc.signalCode === null;

/** A booted process that has run nothing yet, kept ready for the next run (watch mode). */
let spare: Child | undefined;

/** Start a spare process now (with its worker), so that the next run starts without waiting. */
export function prewarm(maxHeapMb = DEFAULT_HEAP_MB): void {
  if (spare?.heapMb === maxHeapMb && alive(spare)) return;
  spare?.proc.kill('SIGKILL');
  spare = spawnChild(maxHeapMb);
  // an idle spare does not keep cmascope alive
  spare.proc.unref();
  spare.proc.channel?.unref();
  (spare.proc.stderr as Socket).unref();
}

function takeChild(heapMb: number): Child {
  const c = spare?.heapMb === heapMb && alive(spare) ? spare : undefined;
  if (!c) return spawnChild(heapMb);
  spare = undefined;
  c.proc.ref();
  c.proc.channel?.ref();
  (c.proc.stderr as Socket).ref();
  return c;
}

export function startRun(req: RunRequest, opts: RunOptions = {}): RunHandle {
  const heapMb = opts.maxHeapMb ?? DEFAULT_HEAP_MB;
  const child = takeChild(heapMb);
  const { proc } = child;
  const name = relative(process.cwd(), req.file);
  const send = (m: ProcessRequest) => {
    if (proc.connected) proc.send(m);
  };
  const { onMessage, ...inner } = opts;
  // bundle here, where esbuild stays warm and bundles are cached, while the process boots
  bundle(req.file).then(
    (b) => settled || send({ type: 'start', req, bundle: b, opts: inner }),
    (e: unknown) => settle({ ok: false, error: bundleError(e, req.file) }),
  );
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  let settled = false;
  let settle: (o: Outcome) => void = () => {};
  const done = new Promise<Outcome>((resolve) => {
    settle = (o) => {
      settled = true;
      settle = () => {};
      proc.kill('SIGKILL'); // its run is over; a stuck worker would keep it alive
      resolve(o);
    };
  });
  const fail = (message: string) => settle({ ok: false, error: { phase: 'run', message } });
  proc.on('message', (m: ProcessMessage) => {
    if (m.type === 'outcome') settle(m.outcome);
    else onMessage?.(m);
  });
  proc.on('error', (e) => fail(`${name}: the workload's process failed: ${e.message}`));
  // 'close', not 'exit': its stderr has been read to the end
  proc.on('close', (code, signal) =>
    fail(
      /heap out of memory/i.test(child.stderr)
        ? `${name}: the workload ran out of memory (worker heap limit ${heapMb} MiB); stopped`
        : `${name}: the workload's process ended (${signal ? `signal ${signal}` : `exit code ${code}`})`,
    ),
  );
  return {
    done,
    control: send,
    stop: async () => {
      fail('stopped');
      await exited;
    },
  };
}
