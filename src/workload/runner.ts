// The workload's process, forked by loader.ts: runs one workload in a worker thread (thread.ts)
// and relays its messages and outcome to cmascope. A fatal V8 out-of-memory in the worker, or a
// worker stuck in a native builtin, ends this process, not cmascope.
import type { ProcessMessage, ProcessRequest } from './protocol.js';
import { prewarm, type RunHandle, startRun } from './thread.js';

const send = (m: ProcessMessage) => process.send!(m);
// cmascope is gone: so is the run (process.exit() would wait for a stuck worker)
process.on('disconnect', () => process.kill(process.pid, 'SIGKILL'));
// the worker boots while this process waits for its run (a spare, or cmascope bundling it)
prewarm(Number(process.argv[2]));

let run: RunHandle | undefined;
process.on('message', (m: ProcessRequest) => {
  if (m.type !== 'start') return run?.control(m);
  run = startRun(m.req, m.bundle, { ...m.opts, onMessage: send });
  void run.done.then((outcome) => send({ type: 'outcome', outcome }));
});
