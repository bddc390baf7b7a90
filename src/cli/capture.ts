// `cmascope capture [-o FILE]`: the script that captures a device's memory state
// (src/device/capture-script.ts), for `cmascope import`.
import { captureScript } from '../device/capture-script.js';
import { parseSize } from '../sim/units.js';
import { optionValue, UsageError } from '../usage-error.js';
import { fileOutput, stdoutOutput } from './output.js';

export interface CaptureArgs {
  output?: string | undefined;
  pageOwner?: string | undefined;
  trace?: number | undefined;
}

export async function captureCommand(a: CaptureArgs): Promise<number> {
  const pageOwner = a.pageOwner;
  const pageOwnerBytes =
    pageOwner === undefined ? 0 : optionValue(() => parseSize(pageOwner, '--page-owner'));
  const trace = a.trace ?? 0;
  if (!Number.isInteger(trace) || trace < 0 || trace > 600)
    throw new UsageError(`--trace ${a.trace}: expected whole seconds from 0 to 600`);
  const out = a.output === undefined ? stdoutOutput : fileOutput(a.output);
  out.write(captureScript({ pageOwnerBytes, traceSeconds: trace }));
  out.commit();
  return 0;
}
