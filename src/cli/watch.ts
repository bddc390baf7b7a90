// `cmascope run <workload> --watch`: run, and run again on every save. Before each new run's
// snapshots comes a reload marker; a version that fails to load leaves the previous output as the
// last word and waits for the next save (issue #6).
import { exporter } from '../metrics/exporters.js';
import { reloadRecord } from '../metrics/json.js';
import type { Snapshot } from '../metrics/snapshot.js';
import { UsageError } from '../usage-error.js';
import { errorLine } from '../workload/errors.js';
import { type RunHandle, startRun } from '../workload/loader.js';
import type { HostMessage } from '../workload/protocol.js';
import { watchWorkload } from '../workload/watcher.js';
import { durationOption, runRequest, workloadPath } from './options.js';
import { parseInterval, type RunCommandArgs } from './run.js';
import { PROGRESS_MS, serve } from './serve.js';

export async function watchRunCommand(a: RunCommandArgs): Promise<number> {
  if (a.format !== 'ndjson' && a.format !== 'text') {
    throw new UsageError(`--watch writes a stream: use --format ndjson or text, not ${a.format}`);
  }
  const target = workloadPath(a.workload);
  if (a.output !== undefined)
    throw new UsageError('--watch writes a stream to stdout: -o cannot be used with it');
  for (const [flag, value] of [
    ['--trace', a.trace],
    ['--dmesg', a.dmesg],
  ] as const)
    if (value !== undefined) throw new UsageError(`${flag} is for a single run: not with --watch`);
  const interval = parseInterval(a.interval);
  const watchdogMs = durationOption(a.watchdog, '--watchdog') / 1e6;
  /** what --serve shows: the latest snapshot of the run whose output goes on */
  let latest: Snapshot | undefined;
  const serving = a.serve === undefined ? undefined : await serve(a.serve, () => latest);
  const out = process.stdout;
  let current: RunHandle | undefined;
  let generation = 0;

  const launch = (file: string, reload: boolean) => {
    const gen = ++generation;
    const exp = exporter(a.format);
    const buffered: HostMessage[] = [];
    let live = false;
    const emit = (m: HostMessage) => {
      if (m.type === 'snapshot') out.write(exp.snapshot(m.snapshot));
      if (m.type === 'done') out.write(exp.end(m.snapshot));
      if (m.type === 'snapshot' || m.type === 'progress' || m.type === 'done') latest = m.snapshot;
    };
    const req = runRequest(file, a, interval);
    if (serving) req.progressMs = PROGRESS_MS;
    const handle = startRun(req, {
      watchdogMs,
      onMessage: (m) => {
        if (gen !== generation) return;
        if (m.type === 'loaded') {
          watcher.track(m.inputs);
          void current?.stop(); // blue/green: the old run goes only now that the new one loaded
          current = handle;
          live = true;
          if (reload) {
            const marker = { file, hash: m.hash };
            out.write(
              a.format === 'ndjson' ? reloadRecord(marker) : `--- reload ${file} (${m.hash})\n`,
            );
          }
          out.write(exp.begin());
          for (const b of buffered.splice(0)) emit(b);
          return;
        }
        if (live) emit(m);
        else buffered.push(m);
      },
    });
    void handle.done.then((o) => {
      if (!o.ok && o.error.message !== 'stopped') {
        process.stderr.write(
          `cmascope: ${errorLine(o.error)}\n${o.error.frame ? `${o.error.frame}\n` : ''}`,
        );
        process.stderr.write('cmascope: waiting for the next save\n');
      }
    });
  };

  const watcher = watchWorkload(target, (file) => launch(file, true));
  launch(target, false);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await Promise.all([watcher.close(), current?.stop(), serving?.close()]);
  return 0;
}
