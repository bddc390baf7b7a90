// The one fixture of the fidelity cases (vitest `test.extend`, like SimPy's `env` fixture): a
// machine preset, platform P of kernel-model.md §7.0 unless a case gives its own, under the
// version and policies a case names (on P's terms: no per-CPU lists unless it names pcp), and
// processes whose results come back typed from their generators:
//
//   it('...', ({ runAs }) => {
//     const { rc, pfns, k } = runAs(version, { uid: 1000 }, function* (p, k) { ...; return { rc, pfns } });
//
// or, with several processes, `machine(...)`, `spawn` each, `run()`, and read each one's `result`.

import { test } from 'vitest';
import type { KernelSpec } from '../../src/kernel/boot.js';
import type { KernelVersion, Policies } from '../../src/kernel/config.js';
import type { Kernel } from '../../src/kernel/kernel.js';
import type { Task } from '../../src/kernel/task.js';
import type { Sleep } from '../../src/sim/engine.js';
import { System } from '../../src/workload/api.js';
import { type Credentials, Simulation } from '../../src/workload/runtime.js';
import { machineP, PLATFORM_P } from '../helpers.js';

/** What a machine boots: a version alone (platform P on its terms), or all of it. */
export type Boot =
  | KernelVersion
  | {
      version: KernelVersion;
      /**
       * the policies of §6 over platform P's terms (PLATFORM_P: pcp=off), on any machine; a case
       * whose numbers are lowest-PFN positions pins `LOWEST_PFN`, one on the kernel's defaults
       * names `pcp: 'on'`
       */
      policies?: Partial<Policies>;
      /** free non-CMA pages of platform P (machineP) */
      fn?: number;
      /** another machine than platform P */
      machine?: KernelSpec['machine'];
    };

/** A process body: the whole System API and the kernel it runs on; what it returns is its result. */
export type Body<R> = (p: System, k: Kernel) => Generator<unknown, R, unknown>;

/** A process started on a machine; `result` is what its body returned. */
export class Actor<R> {
  private value: { r: R } | undefined;

  constructor(readonly task: Task) {}

  /** The body returned `r`. */
  settle(r: R): void {
    this.value = { r };
  }

  /** The body's return value; throws if it has not returned (still running, or killed). */
  get result(): R {
    if (!this.value) throw new Error(`process ${this.task.comm} has not returned`);
    return this.value.r;
  }
}

/** A booted machine: a Simulation and its kernel. */
export class Machine {
  readonly sim: Simulation;
  readonly k: Kernel;

  constructor(boot: Boot) {
    const b = typeof boot === 'string' ? { version: boot } : boot;
    this.sim = new Simulation({
      version: b.version,
      policies: { ...PLATFORM_P, ...b.policies },
      machine: b.machine ?? machineP(b.fn),
    });
    this.k = this.sim.k;
  }

  /** Starts process `comm` running `body` from now on. */
  spawn<R>(comm: string, creds: Credentials, body: Body<R>): Actor<R> {
    const { sim, k } = this;
    const task = sim.spawn(comm, creds, (t) =>
      (function* () {
        actor.settle(yield* body(new System(sim, t), k));
      })(),
    );
    const actor = new Actor<R>(task);
    return actor;
  }

  /** Runs every event (up to `untilNs`). */
  run(untilNs?: number): void {
    this.sim.run(untilNs);
  }

  /** One process to the end of the simulation: its result. */
  runAs<R>(creds: Credentials, body: Body<R>, comm = 'A'): R {
    const p = this.spawn(comm, creds, body);
    this.run();
    return p.result;
  }

  /** Runs a kernel generator outside any process to completion, time advancing by every sleep. */
  drive<R>(gen: Generator<Sleep, R>): R {
    for (;;) {
      const r = gen.next();
      if (r.done) return r.value;
      this.run(this.sim.engine.now + r.value.ns);
    }
  }
}

/** Boots a machine and runs one process on it to the end: its result, and the kernel. */
export type RunAs = <R extends object & { k?: never }>(
  boot: Boot,
  creds: Credentials,
  body: Body<R>,
) => R & { k: Kernel };

/** The `machine` fixture: boots a machine. */
export type MachineFixture = (boot: Boot) => Machine;

interface Fixtures {
  machine: MachineFixture;
  runAs: RunAs;
}

export const it = test.extend<Fixtures>({
  // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from its first parameter
  machine: async ({}, use: (v: Fixtures['machine']) => Promise<void>) => {
    await use((boot) => new Machine(boot));
  },
  runAs: async ({ machine }: Pick<Fixtures, 'machine'>, use: (v: RunAs) => Promise<void>) => {
    await use((boot, creds, body) => {
      const m = machine(boot);
      return { ...m.runAs(creds, body), k: m.k };
    });
  },
});
