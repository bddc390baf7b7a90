// The public API for workload files: `import { defineWorkload } from 'cmascope'`.
export type { MachineSpec } from './kernel/boot.js';
export type { Errno, KernelVersion, Policies } from './kernel/config.js';
export type { HeapSpec, HeapType } from './kernel/drivers/dma-buf/heaps.js';
export type { CmaAreaSpec } from './kernel/kernel.js';
export type { FsType } from './kernel/mm/mmap.js';
export type { Actor, Duration, Process, Result, Shm, Size, System } from './workload/api.js';
export { Buf } from './workload/api.js';
export type { Params, ParamValue, WorkloadDef } from './workload/define.js';
export { defineWorkload } from './workload/define.js';
export type { Credentials } from './workload/runtime.js';
