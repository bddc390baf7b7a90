// `cmascope capture [-o FILE]`: the script that captures a device's memory state
// (src/device/capture-script.ts), for `cmascope import`.
import { captureScript } from '../device/capture-script.js';
import { parseSize } from '../sim/units.js';
import { fileOutput, stdoutOutput } from './output.js';
import { UsageError } from './usage.js';

export interface CaptureArgs {
  output?: string | undefined;
  pageOwner?: string | undefined;
  trace?: number | undefined;
}

export async function captureCommand(a: CaptureArgs): Promise<number> {
  let pageOwnerBytes = 0;
  try {
    if (a.pageOwner !== undefined) pageOwnerBytes = parseSize(a.pageOwner, '--page-owner');
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const trace = a.trace ?? 0;
  if (!Number.isInteger(trace) || trace < 0 || trace > 600)
    throw new UsageError(`--trace ${a.trace}: expected whole seconds from 0 to 600`);
  const out = a.output === undefined ? stdoutOutput : fileOutput(a.output);
  out.write(captureScript({ pageOwnerBytes, traceSeconds: trace }));
  out.commit();
  return 0;
}
