// The page allocator against a reference buddy allocator in C (bench/refbuddy.c): both
// run the same order-0 alloc/free mix, driven by the same xorshift64 sequence; ours under
// placement=kernel with per-CPU lists (pcp=on, the kernel's own configuration: the main figures),
// placement=kernel without them, and lowest-pfn. The policies are given explicitly, so that a
// change of the defaults does not change what a figure measures. refbuddy.c's own JavaScript port
// runs the sequence too: what the language costs the reference algorithm itself.
import { join } from 'node:path';
import { bootKernel } from '../src/kernel/boot.js';
import type { Policies } from '../src/kernel/config.js';
import { GFP_HIGHUSER_MOVABLE } from '../src/kernel/mm/gfp.js';
import { PageKind } from '../src/kernel/mm/page.js';
import { type Bench, type Figure, log, median, repoRoot, round } from './figure.js';
import { checkRefbuddy, compileRefbuddy, JsRefbuddy, runRefbuddy } from './refbuddy.js';

const OPS = 20_000_000; // refbuddy.c's default
const WARMUP_OPS = 4_000_000;
const RUNS = 3; // pairs (C, then us) per figure: the figures are wall-clock time
const SIZES = [
  { tag: '4g', memory: '4GiB', pages: 1 << 20, lowestTarget: 'info' },
  { tag: '16g', memory: '16GiB', pages: 1 << 22, lowestTarget: '<= 3.0' },
] as const;
/** The policies measured, each with its figures' infix; the first is the one held to <= 1.5. */
const CONFIGS: readonly { policies: Pick<Policies, 'placement' | 'pcp'>; infix: string }[] = [
  { policies: { placement: 'kernel', pcp: 'on' }, infix: '' },
  { policies: { placement: 'kernel', pcp: 'off' }, infix: 'nopcp_' },
  { policies: { placement: 'lowest-pfn', pcp: 'off' }, infix: 'lowest_' },
];

/** x mod n for integers x < 2^53, n > 0, without fmod. */
function modf(x: number, n: number): number {
  const r = x - Math.floor(x / n) * n;
  return r < 0 ? r + n : r >= n ? r - n : r;
}

/** refbuddy.c's rng_next(): xorshift64 (13, 7, 17) on two 32-bit halves. */
export class Xorshift64 {
  hi = 0x0139408d; // 88172645463325252 = 0x0139408d_cbbf7a44
  lo = 0xcbbf7a44 | 0;

  next(): void {
    let { hi, lo } = this;
    hi ^= (hi << 13) | (lo >>> 19); // x ^= x << 13
    lo ^= lo << 13;
    lo ^= (lo >>> 7) | (hi << 25); // x ^= x >> 7
    hi ^= hi >>> 7;
    hi ^= (hi << 17) | (lo >>> 15); // x ^= x << 17
    lo ^= lo << 17;
    this.hi = hi;
    this.lo = lo;
  }

  /** The 64-bit state mod n (n < 2^26). */
  mod(n: number): number {
    return modf(modf(this.hi >>> 0, n) * modf(2 ** 32, n) + (this.lo >>> 0), n);
  }

  get big(): bigint {
    return (BigInt(this.hi >>> 0) << 32n) | BigInt(this.lo >>> 0);
  }
}

/** The halves against a BigInt xorshift64, and mod against BigInt %. */
function checkXorshift(): void {
  const M = (1n << 64n) - 1n;
  let x = 88172645463325252n;
  const r = new Xorshift64();
  for (let i = 0; i < 100_000; i++) {
    x ^= (x << 13n) & M;
    x ^= x >> 7n;
    x ^= (x << 17n) & M;
    r.next();
    const n = 1 + (i % 4_200_000);
    if (r.big !== x || BigInt(r.mod(n)) !== x % BigInt(n)) {
      throw new Error(`xorshift64 halves diverge from BigInt at step ${i}`);
    }
  }
}

/**
 * refbuddy.c's decisions for `ops` operations on `n` pages, computed before timing: -1 for an
 * allocation, j >= 0 for "free live[j]". JavaScript has no 64-bit integers, and emulating
 * xorshift64 on 32-bit halves costs more than the allocator itself; the C side computes its
 * xorshift inline (a few ns per op), which this comparison counts against C.
 */
export function opStream(n: number, ops: number): Int32Array {
  const out = new Int32Array(ops);
  const rng = new Xorshift64();
  const half = n >>> 1;
  const high = Math.floor((n * 9) / 10);
  let nl = 0;
  for (let i = 0; i < ops; i++) {
    let doAlloc = nl < half;
    if (!doAlloc && nl <= high) {
      rng.next();
      doAlloc = (rng.lo & 1) === 1;
    }
    if (doAlloc) {
      out[i] = -1;
      nl++;
    } else {
      rng.next();
      out[i] = rng.mod(nl);
      nl--;
    }
  }
  return out;
}

/** What refbuddy.c's main loop calls: PageAlloc, or JsRefbuddy (buddy_alloc, buddy_free). */
interface Order0Allocator {
  allocPages(order: number, gfp: number, kind: PageKind): number;
  freePages(pfn: number, order: number): void;
}

/** refbuddy.c's main loop on an allocator; returns [ns per op, live pages at the end]. */
function ourLoop(alloc: Order0Allocator, n: number, stream: Int32Array): [number, number] {
  const live = new Int32Array(n);
  let nl = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < stream.length; i++) {
    const j = stream[i]!;
    if (j < 0) {
      const p = alloc.allocPages(0, GFP_HIGHUSER_MOVABLE, PageKind.ANON);
      if (p >= 0) live[nl++] = p;
    } else {
      alloc.freePages(live[j]!, 0);
      live[j] = live[--nl]!;
    }
  }
  const ns = Number(process.hrtime.bigint() - t0);
  return [ns / stream.length, nl];
}

/**
 * The same loop with a trivial allocator (a stack of free pfns): the cost of the harness itself,
 * a floor for ourLoop. A separate function so that ourLoop's call sites stay monomorphic.
 */
function harnessLoop(n: number, stream: Int32Array): number {
  const stack = new Int32Array(n).map((_, i) => n - 1 - i);
  let top = n;
  const live = new Int32Array(n);
  let nl = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < stream.length; i++) {
    const j = stream[i]!;
    if (j < 0) {
      const p = top > 0 ? stack[--top]! : -1;
      if (p >= 0) live[nl++] = p;
    } else {
      stack[top++] = live[j]!;
      live[j] = live[--nl]!;
    }
  }
  return Number(process.hrtime.bigint() - t0) / stream.length;
}

const boot = (memory: string, policies: Partial<Policies>) =>
  bootKernel({ policies, machine: { memory, minFree: 0 } }, { now: 0 });

/** The target of a figure: kernel with pcp=on <= 1.5, lowest-pfn its size's, the rest info. */
const target = (infix: string, lowestTarget: string): string =>
  infix === '' ? '<= 1.5' : infix === 'lowest_' ? lowestTarget : 'info';

/**
 * A JavaScript loop against refbuddy.c side by side: RUNS pairs, C then JS, each pair's ratio
 * (a noisy machine slows both of a pair alike), after one warm-up of the JS loop. The medians of
 * the ratios and of each side's ns/op; throws unless every run ends with C's live pages.
 */
function sideBySide(
  bin: string,
  pages: number,
  stream: Int32Array,
  loop: (ops: Int32Array) => [number, number],
): { ratio: number; ns: number; refNs: number } {
  loop(stream.subarray(0, WARMUP_OPS));
  const pairs = Array.from({ length: RUNS }, () => {
    const ref = runRefbuddy(bin, pages, OPS);
    const [ns, live] = loop(stream);
    if (live !== ref.live) {
      throw new Error(`op mix differs from refbuddy: ${live} live pages, C has ${ref.live}`);
    }
    return { ns, refNs: ref.nsPerOp };
  });
  return {
    ratio: median(pairs.map((p) => p.ns / p.refNs)),
    ns: median(pairs.map((p) => p.ns)),
    refNs: median(pairs.map((p) => p.refNs)),
  };
}

export const alloc: Bench = {
  id: 'alloc',
  title: 'order-0 alloc/free vs refbuddy.c',
  async figures() {
    checkXorshift();
    const root = repoRoot();
    const bin = compileRefbuddy(root, join(root, 'bench/.out'));
    checkRefbuddy(bin); // the same choices as the reference, on the sequences timed below
    const figs: Figure[] = [];
    const ratios: Figure[] = [];
    const floors: Figure[] = [];
    for (const s of SIZES) {
      const stream = opStream(s.pages, OPS);
      const refNs: number[] = [];
      const ours: Figure[] = [];
      for (const { policies, infix } of CONFIGS) {
        const r = sideBySide(bin, s.pages, stream, (ops) =>
          ourLoop(boot(s.memory, policies).alloc, s.pages, ops),
        );
        refNs.push(r.refNs);
        log(
          `  ${s.memory} placement=${policies.placement} pcp=${policies.pcp}: ours ${r.ns.toFixed(1)} ns/op, refbuddy ${r.refNs} ns/op, ratio ${r.ratio.toFixed(2)} (median of ${RUNS} pairs)`,
        );
        ratios.push({
          name: `alloc_vs_c_ratio_${infix}${s.tag}`,
          value: round(r.ratio, 2),
          unit: 'x',
          target: target(infix, s.lowestTarget),
        });
        ours.push({
          name: `alloc_${infix}ns_per_op_${s.tag}`,
          value: round(r.ns, 1),
          unit: 'ns/op',
          target: 'info',
        });
      }
      const ref = { name: `refbuddy_ns_per_op_${s.tag}`, value: median(refNs), unit: 'ns/op' };
      figs.push({ ...ref, target: 'info' }, ...ours);
    }
    // after every run of ours, so that ourLoop's calls see PageAlloc alone while ours are timed
    // (the port's then see two classes: a map check more per call, counted against the port)
    for (const s of SIZES) {
      const stream = opStream(s.pages, OPS);
      const js = sideBySide(bin, s.pages, stream, (ops) =>
        ourLoop(new JsRefbuddy(s.pages), s.pages, ops),
      );
      log(
        `  ${s.memory} refbuddy.c in JavaScript: ${js.ns.toFixed(1)} ns/op, refbuddy ${js.refNs} ns/op, ratio ${js.ratio.toFixed(2)}`,
      );
      floors.push({
        name: `alloc_js_refbuddy_vs_c_ratio_${s.tag}`,
        value: round(js.ratio, 2),
        unit: 'x',
        target: 'info',
      });
      harnessLoop(s.pages, stream.subarray(0, WARMUP_OPS));
      const ns = median(Array.from({ length: RUNS }, () => harnessLoop(s.pages, stream)));
      floors.push({
        name: `alloc_harness_ns_per_op_${s.tag}`,
        value: round(ns, 1),
        unit: 'ns/op',
        target: 'info',
      });
    }
    return [...ratios, ...figs, ...floors];
  },
};
