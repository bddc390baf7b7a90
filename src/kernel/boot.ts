// Boot: the core (kernel.ts: memory, zones, CMA areas) and then the devices, each driver keeping
// its own state. The one place that composes the kernel with its drivers; kernel.ts knows none.
import type { HeapSpec } from './drivers/dma-buf/heaps.js';
import { dmaHeapsAdd } from './drivers/dma-buf/heaps.js';
import { type TeeConfig, teeProbe } from './drivers/tee/tee_shm.js';
import { type Clock, type CoreSpec, Kernel, type MemorySpec } from './kernel.js';

export interface MachineSpec extends MemorySpec {
  /** DMA-BUF heaps; default: one CMA heap per area, named after it (§5.5) */
  heaps?: HeapSpec[];
  /** the TEE driver and secure world (C30); default: both accept registrations */
  tee?: Partial<TeeConfig>;
}

export interface KernelSpec extends CoreSpec {
  machine: MachineSpec;
}

/** start_kernel() and the driver probes, in that order (a config error names the first fault). */
export function bootKernel(spec: KernelSpec, clock: Clock): Kernel {
  const k = new Kernel(spec, clock);
  const m = spec.machine;
  teeProbe(k, { registerOps: true, dynamicShm: true, ...m.tee });
  dmaHeapsAdd(k, m.heaps);
  return k;
}
