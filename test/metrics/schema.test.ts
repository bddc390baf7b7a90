// Every snapshot of real runs validates against docs/snapshot.schema.json, and the schema stays in
// step with the code's enums.
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { KERNEL_VERSIONS, POLICY_VALUES } from '../../src/kernel/config.js';
import { MAX_LIST, type Snapshot } from '../../src/metrics/snapshot.js';
import { defaultRun, run } from './fixture.js';

const schema = JSON.parse(
  readFileSync(new URL('../../docs/snapshot.schema.json', import.meta.url), 'utf8'),
);
const validate = new Ajv2020({ allErrors: true, strict: true }).compile(schema);

function expectValid(s: unknown): void {
  const ok = validate(s);
  expect(validate.errors ?? [], JSON.stringify(validate.errors, null, 2)).toEqual([]);
  expect(ok).toBe(true);
}

const runs = () => [
  defaultRun(),
  run({ version: '6.4', everyNs: 3e9 }),
  run({ policies: { teePin: 'v2-longterm', teeAccounting: 'io_uring' }, everyNs: 5e9 }),
];

describe('docs/snapshot.schema.json', () => {
  it('accepts every interval and final snapshot of runs on 6.18 and 6.4 and with other policies', () => {
    let n = 0;
    for (const r of runs()) {
      for (const s of [...r.intervals, r.final]) {
        expectValid(s);
        // and what a consumer reads back from the JSON outputs
        expectValid(JSON.parse(JSON.stringify(s)));
        n++;
      }
    }
    expect(n).toBeGreaterThan(20);
  });

  it('lists release_pages_success only where the kernel has it (not on 6.4)', () => {
    expect(defaultRun().final.cma.svp!.release_pages_success).toBe(0);
    expect('release_pages_success' in run({ version: '6.4' }).final.cma.svp!).toBe(false);
  });

  it('is strict: unknown and missing fields, bad units and enums are rejected', () => {
    const base = defaultRun().final;
    const bad: ((s: Snapshot & Record<string, unknown>) => void)[] = [
      (s) => {
        s.extra = 1;
      },
      (s) => {
        (s.meminfo as Record<string, number>).Buffers = 0;
      },
      (s) => {
        (s.cma.svp as unknown as Record<string, unknown>).bitmap = [];
      },
      (s) => {
        delete (s.cma.svp as Partial<Snapshot['cma'][string]>).maxchunk;
      },
      (s) => {
        (s.processes[0] as unknown as Record<string, unknown>).rlimit_memlock = 'infinite';
      },
      (s) => {
        (s.kernel as unknown as Record<string, unknown>).teePin = 'v3';
      },
      (s) => {
        s.simTimeNs = 1.5;
      },
      (s) => {
        s.failures[0]!.errno = 'enomem';
      },
      (s) => {
        (s.failures[0]!.blocker as unknown as Record<string, unknown>).page = 1;
      },
      (s) => {
        s.users.x = { locked_vm: 0 };
      },
      (s) => {
        s.cma.svp!.free_ranges.push([1, 2, 3] as unknown as [number, number]);
      },
    ];
    for (const change of bad) {
      const s = structuredClone(base) as Snapshot & Record<string, unknown>;
      change(s);
      expect(validate(s), change.toString()).toBe(false);
    }
  });

  it('has the code’s kernel versions and policy values', () => {
    const k = schema.$defs.kernel.properties;
    expect(k.version.enum).toEqual([...KERNEL_VERSIONS]);
    for (const [name, values] of Object.entries(POLICY_VALUES)) {
      if (typeof values[0] === 'boolean') expect(k[name]).toEqual({ type: 'boolean' });
      else expect(k[name].enum, name).toEqual([...values]);
    }
    expect(Object.keys(k).sort()).toEqual(['version', ...Object.keys(POLICY_VALUES)].sort());
    expect(schema.properties.failures.maxItems).toBe(MAX_LIST);
    expect(schema.properties.logs.maxItems).toBe(MAX_LIST);
  });
});

describe('snapshot invariants the docs state', () => {
  it('pages_by_state adds up to count; failures_total counts at least the listed failures', () => {
    for (const r of runs()) {
      for (const s of [...r.intervals, r.final]) {
        for (const a of Object.values(s.cma)) {
          const sum = Object.values(a.pages_by_state).reduce((x, y) => x + y, 0);
          expect(sum).toBe(a.count);
          expect(a.total_pages).toBe(a.count);
        }
        expect(s.failures_total).toBeGreaterThanOrEqual(s.failures.length);
      }
    }
  });

  it('keeps the contract’s key order', () => {
    const s = defaultRun().final;
    expect(Object.keys(s)).toEqual(Object.keys(schema.properties));
    expect(Object.keys(s.cma.svp!)).toEqual(Object.keys(schema.$defs.cmaArea.properties));
    expect(Object.keys(s.processes[0]!)).toEqual(Object.keys(schema.$defs.process.properties));
    expect(Object.keys(s.failures[0]!)).toEqual(
      Object.keys(schema.$defs.failure.properties).filter((k) => k in s.failures[0]!),
    );
  });
});
