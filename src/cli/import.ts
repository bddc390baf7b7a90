// `cmascope import CAPTURE [-o FILE] [--check]`: a workload that boots a model of the captured
// device (src/device/), or the comparison of that model with the capture (exit 0: every exact
// row equal; 1: one differs; 2: the capture is malformed or the options wrong).

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { parseBundle } from '../device/bundle.js';
import { checkBoot, checkProcesses, formatCheck } from '../device/check.js';
import { type Device, machineOf, readDevice } from '../device/device.js';
import { SETTLE, spawned, writeWorkload } from '../device/workload-writer.js';
import { bootKernel } from '../kernel/boot.js';
import { ConfigError } from '../kernel/config.js';
import type { Kernel } from '../kernel/kernel.js';
import { parseDuration } from '../sim/units.js';
import { UsageError } from '../usage-error.js';
import { startRun } from '../workload/loader.js';
import { workloadFailed } from './options.js';
import { fileOutput, namesOneOf, stdoutOutput, systemError } from './output.js';

export interface ImportArgs {
  capture: string;
  output?: string | undefined;
  check?: boolean;
  name?: string | undefined;
}

function load(path: string): Device {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${path}: ${systemError(e)}`);
  }
  return readDevice(parseBundle(text, path));
}

/** The model of the captured device; a machine it cannot boot is a malformed capture (exit 2). */
function boot(d: Device): Kernel {
  try {
    return bootKernel({ machine: machineOf(d), version: d.version }, { now: 0 });
  } catch (e) {
    throw e instanceof ConfigError ? new UsageError(e.message) : e;
  }
}

const nameOf = (a: ImportArgs): string =>
  a.name ?? (a.output ? basename(a.output).replace(/\.[cm]?ts$/, '') : 'device');

export async function importCommand(a: ImportArgs): Promise<number> {
  if (a.output !== undefined && namesOneOf(a.output, [resolve(a.capture)]))
    throw new UsageError(`-o ${a.output} is the capture itself: choose another output file`);
  const d = load(a.capture);
  for (const w of d.warnings) process.stderr.write(`cmascope: warning: ${w}\n`);
  const source = writeWorkload(d, nameOf(a));
  if (!a.check) {
    const out = a.output === undefined ? stdoutOutput : fileOutput(a.output);
    out.write(source);
    out.commit();
    return 0;
  }
  const rows = checkBoot(d, boot(d));
  if (spawned(d).length > 0) {
    // the generated workload itself, run until its processes have locked and pinned their memory
    const dir = mkdtempSync(join(tmpdir(), 'cmascope-import-'));
    try {
      const file = join(dir, `${nameOf(a)}.ts`);
      writeFileSync(file, source);
      const outcome = await startRun({
        file,
        seed: 1,
        set: {},
        policies: {},
        untilNs: parseDuration(SETTLE) - 1,
      }).done;
      if (!outcome.ok) return workloadFailed(outcome.error);
      rows.push(...checkProcesses(d, outcome.final.processes));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const out = a.output === undefined ? stdoutOutput : fileOutput(a.output);
  out.write(formatCheck(rows));
  out.commit();
  return rows.some((r) => r.status === 'differs') ? 1 : 0;
}
