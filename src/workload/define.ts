// defineWorkload(): the shape of a workload module, checked when it is loaded.
import type { MachineSpec } from '../kernel/boot.js';
import {
  KERNEL_VERSIONS,
  type KernelVersion,
  POLICY_VALUES,
  type Policies,
} from '../kernel/config.js';
import type { HeapSpec } from '../kernel/drivers/dma-buf/heaps.js';
import type { TeeConfig } from '../kernel/drivers/tee/tee_shm.js';
import type { CmaAreaSpec } from '../kernel/kernel.js';
import { LAYOUT_KEYS } from '../kernel/mm/boot_layout.js';
import type { Body } from '../sim/engine.js';
import type { System } from './api.js';
import { isGeneratorFunction } from './args.js';

export type ParamValue = number | string | boolean;
export type Params = Record<string, ParamValue>;

export interface WorkloadDef<P extends Params = Params> {
  name: string;
  description?: string;
  /** the machine, or a function of the parameters (so `--set` can change it) */
  machine: MachineSpec | ((params: P) => MachineSpec);
  /** the kernel version and the policies this workload is meant for; the CLI may override them */
  kernel?: { version?: KernelVersion } & Partial<Policies>;
  /** parameters with their defaults; `--set key=value` overrides them */
  params?: P;
  /** how long to simulate by default ('10min'); otherwise until every actor has finished */
  duration?: string | number;
  /** the main actor: runs as a process named after the workload */
  main: (sys: System, params: P) => Body<unknown>;
}

/** Where defineWorkload() was called, for errors about the definition itself. */
export const DEFINED_AT = Symbol('cmascope.definedAt');

export interface LoadedWorkload extends WorkloadDef {
  [DEFINED_AT]?: string;
}

/** Declare a workload; the default export of a workload module. */
export function defineWorkload<P extends Params>(def: WorkloadDef<P>): WorkloadDef<P> {
  const stack = new Error().stack ?? '';
  Object.defineProperty(def, DEFINED_AT, { value: stack, enumerable: false });
  return def;
}

function fail(msg: string): never {
  throw new TypeError(msg);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/** Check a module's default export; throws a TypeError naming the first problem. */
export function checkWorkload(def: unknown): LoadedWorkload {
  if (!isObject(def)) fail('the workload module must `export default defineWorkload({...})`');
  if (typeof def.name !== 'string' || def.name === '')
    fail('workload: `name` must be a non-empty string');
  if (!isGeneratorFunction(def.main))
    fail('workload: `main` must be a generator function `*main(sys, params) {...}`');
  if (typeof def.machine !== 'function') checkMachine(def.machine);
  if (def.params !== undefined) {
    if (!isObject(def.params))
      fail('workload: `params` must be an object of numbers, strings and booleans');
    for (const [key, v] of Object.entries(def.params)) {
      if (!['number', 'string', 'boolean'].includes(typeof v)) {
        fail(`workload: param '${key}' must be a number, string or boolean`);
      }
    }
  }
  if (def.kernel !== undefined) checkKernel(def.kernel);
  return def as unknown as LoadedWorkload;
}

/** The keys of each part of a machine: a misspelt one (`reseved`) is an error, not ignored. */
const MACHINE_KEYS: { readonly [K in keyof MachineSpec]-?: true } = {
  memory: true,
  dramBase: true,
  movable: true,
  reserved: true,
  minFree: true,
  cpus: true,
  cma: true,
  heaps: true,
  tee: true,
  layout: true,
};
const AREA_KEYS: { readonly [K in keyof CmaAreaSpec]-?: true } = {
  name: true,
  size: true,
  base: true,
  orderPerBit: true,
  gcma: true,
};
const HEAP_KEYS: { readonly [K in keyof HeapSpec]-?: true } = {
  name: true,
  type: true,
  area: true,
  poolSize: true,
};
const TEE_KEYS: { readonly [K in keyof TeeConfig]-?: true } = {
  registerOps: true,
  dynamicShm: true,
};

function checkKeys(o: Record<string, unknown>, known: object, what: string): void {
  for (const key of Object.keys(o)) {
    if (!Object.hasOwn(known, key))
      fail(`${what}: unknown key '${key}' (${Object.keys(known).join(', ')})`);
  }
}

/** The parts of a machine description that the kernel would misread rather than reject. */
export function checkMachine(m: unknown): MachineSpec {
  if (!isObject(m)) {
    fail(
      "workload: `machine` must describe the machine, e.g. { memory: '4GiB' }, or be a function of the params",
    );
  }
  checkKeys(m, MACHINE_KEYS, 'machine');
  if (m.cma !== undefined && !Array.isArray(m.cma)) fail('machine.cma must be an array of areas');
  for (const a of (m.cma ?? []) as unknown[]) {
    if (!isObject(a) || typeof a.name !== 'string')
      fail('machine.cma: every area needs a `name` string');
    checkKeys(a, AREA_KEYS, `CMA area '${a.name}'`);
    if (a.gcma !== undefined && typeof a.gcma !== 'boolean')
      fail(`CMA area '${a.name}': gcma must be true or false`);
  }
  if (m.heaps !== undefined && !Array.isArray(m.heaps))
    fail('machine.heaps must be an array of heaps');
  for (const h of (m.heaps ?? []) as unknown[]) {
    if (!isObject(h) || typeof h.name !== 'string')
      fail('machine.heaps: every heap needs a `name` string');
    checkKeys(h, HEAP_KEYS, `heap '${h.name}'`);
  }
  if (m.tee !== undefined) {
    if (!isObject(m.tee)) fail('machine.tee must be an object { registerOps, dynamicShm }');
    checkKeys(m.tee, TEE_KEYS, 'machine.tee');
    for (const [key, v] of Object.entries(m.tee))
      if (typeof v !== 'boolean') fail(`machine.tee.${key} must be true or false`);
  }
  if (m.layout !== undefined) {
    if (!isObject(m.layout) || !isObject(m.layout.free))
      fail('machine.layout must be an object { free, pageblocks?, cmaAllocated? }');
    checkKeys(m.layout, Object.fromEntries(LAYOUT_KEYS.map((k) => [k, true])), 'machine.layout');
  }
  return m as unknown as MachineSpec;
}

function checkKernel(kernel: unknown): void {
  if (!isObject(kernel)) fail('workload: `kernel` must be an object');
  for (const [key, v] of Object.entries(kernel)) {
    if (key === 'version') {
      if (!KERNEL_VERSIONS.includes(v as KernelVersion)) {
        fail(`kernel.version '${String(v)}' is not one of ${KERNEL_VERSIONS.join(', ')}`);
      }
      continue;
    }
    checkPolicy(key, v);
  }
}

/** A policy name and value, valid or a TypeError listing the valid ones. */
export function checkPolicy(key: string, value: unknown): void {
  if (!Object.hasOwn(POLICY_VALUES, key))
    fail(`unknown policy '${key}': valid policies are ${Object.keys(POLICY_VALUES).join(', ')}`);
  const valid: readonly unknown[] = POLICY_VALUES[key as keyof Policies];
  if (!valid.includes(value)) {
    fail(
      `policy ${key}=${String(value)} is not valid: choose one of ${valid.map(String).join(', ')}`,
    );
  }
}

/** `--set key=raw` against the workload's params: the value in the default's type. A usage
 * error, so plain Errors: no 'TypeError: ' before the message. */
export function parseParam(def: Params, key: string, raw: string): string | number | boolean {
  if (!Object.hasOwn(def, key)) {
    throw new Error(
      `unknown parameter '${key}': the workload has ${Object.keys(def).join(', ') || 'none'}`,
    );
  }
  const d = def[key];
  if (typeof d === 'number') {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n))
      throw new Error(`parameter ${key}=${raw}: expected a number`);
    return n;
  }
  if (typeof d === 'boolean') {
    if (raw !== 'true' && raw !== 'false')
      throw new Error(`parameter ${key}=${raw}: expected true or false`);
    return raw === 'true';
  }
  return raw;
}
