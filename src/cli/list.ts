// `cmascope list`: the bundled workloads, each with its description (issue #14 item 2). Each is
// loaded (not run) to read its definition, all at once.
import { startRun } from '../workload/loader.js';
import { bundledWorkloads, DEFAULT_WORKLOAD, workloadFailed, workloadPath } from './options.js';

/** A bundled workload's description, or the exit code of its load error. */
async function describeWorkload(file: string): Promise<string | number> {
  let description = '';
  const req = { file, seed: 1, set: {}, policies: {}, check: true };
  const outcome = await startRun(req, {
    onMessage: (m) => {
      if (m.type === 'loaded') description = m.description;
    },
  }).done;
  return outcome.ok ? description : workloadFailed(outcome.error);
}

export async function listCommand(): Promise<number> {
  const names = bundledWorkloads().map((n) =>
    workloadPath(n) === DEFAULT_WORKLOAD ? `${n} (default)` : n,
  );
  const descriptions = await Promise.all(
    bundledWorkloads().map((n) => describeWorkload(workloadPath(n))),
  );
  const code = descriptions.find((d) => typeof d === 'number');
  if (code !== undefined) return code;
  const width = Math.max(...names.map((n) => n.length));
  process.stdout.write(names.map((n, i) => `${n.padEnd(width)}  ${descriptions[i]}\n`).join(''));
  return 0;
}
