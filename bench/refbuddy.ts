// bench/refbuddy.c, the C buddy allocator `npm run bench` measures the page allocator against:
// compiled with the system's `cc`, run, and checked to make the same choices, operation for
// operation, as the reference it replaces.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

/** What one run of refbuddy printed. */
export interface RefbuddyRun {
  nsPerOp: number;
  live: number;
  /** FNV-1a of every pfn handed out and freed, in order (with --digest only) */
  digest?: string;
}

/** A sequence (pages, ops) and what the reference allocator printed for it. */
export interface RefbuddyCase {
  pages: number;
  ops: number;
  live: number;
  digest: string;
}

/**
 * The results of the team's original reference allocator (a different C program) on the
 * bench's sequences, with the same digest added to it: refbuddy.c must print these. The first
 * is small enough for a test; the others are the bench's two sizes at its 20 M operations.
 */
export const REFBUDDY_EXPECTED: readonly RefbuddyCase[] = [
  { pages: 1 << 16, ops: 2_000_000, live: 33224, digest: 'f2805f35c18303ee' },
  { pages: 1 << 20, ops: 20_000_000, live: 529196, digest: 'a568deb58daa2a21' },
  { pages: 1 << 22, ops: 20_000_000, live: 2102880, digest: 'dd3a61aa10bb8893' },
];

/** Compile bench/refbuddy.c into `outDir` with `cc -O2`; returns the binary's path. */
export function compileRefbuddy(root: string, outDir: string): string {
  mkdirSync(outDir, { recursive: true });
  const bin = join(outDir, 'refbuddy');
  execFileSync('cc', ['-O2', '-o', bin, join(root, 'bench', 'refbuddy.c')], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return bin;
}

export function runRefbuddy(bin: string, pages: number, ops: number, digest = false): RefbuddyRun {
  const args = [String(pages), String(ops), ...(digest ? ['--digest'] : [])];
  const out = execFileSync(bin, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const ns = /ns\/op=([\d.]+)/.exec(out);
  const live = /live=(\d+)/.exec(out);
  const hash = /digest=([0-9a-f]{16})/.exec(out);
  if (!ns || !live || (digest && !hash))
    throw new Error(`cannot parse refbuddy output: ${out.trim()}`);
  return { nsPerOp: Number(ns[1]), live: Number(live[1]), digest: hash?.[1] };
}

/** Throw unless refbuddy gives the reference's results on `cases` (default: all of them). */
export function checkRefbuddy(
  bin: string,
  cases: readonly RefbuddyCase[] = REFBUDDY_EXPECTED,
): void {
  for (const c of cases) {
    const r = runRefbuddy(bin, c.pages, c.ops, true);
    if (r.live !== c.live || r.digest !== c.digest) {
      throw new Error(
        `refbuddy on ${c.pages} pages, ${c.ops} ops: live=${r.live} digest=${r.digest}, ` +
          `the reference gives live=${c.live} digest=${c.digest}`,
      );
    }
  }
}

const NR_ORDERS = 11;
const TOP = NR_ORDERS - 1;

/**
 * refbuddy.c ported line for line: the same arrays, lists and choices. The bench times it on the
 * same sequence as the C, which shows what the reference algorithm itself costs in JavaScript on
 * this machine: a floor for alloc_vs_c_ratio that no model doing more than refbuddy goes below.
 */
export class JsRefbuddy {
  private readonly next: Int32Array;
  private readonly prev: Int32Array;
  private readonly blkOrder: Uint8Array;
  private readonly blkFree: Uint8Array;
  private readonly listHead = new Int32Array(NR_ORDERS).fill(-1);

  constructor(private readonly nrPages: number) {
    this.next = new Int32Array(nrPages);
    this.prev = new Int32Array(nrPages);
    this.blkOrder = new Uint8Array(nrPages);
    this.blkFree = new Uint8Array(nrPages);
    for (let pfn = 0; pfn < nrPages; pfn += 1 << TOP) this.push(TOP, pfn);
  }

  private push(order: number, pfn: number): void {
    const first = this.listHead[order]!;
    this.prev[pfn] = -1;
    this.next[pfn] = first;
    if (first !== -1) this.prev[first] = pfn;
    this.listHead[order] = pfn;
    this.blkOrder[pfn] = order;
    this.blkFree[pfn] = 1;
  }

  private remove(order: number, pfn: number): void {
    const before = this.prev[pfn]!;
    const after = this.next[pfn]!;
    if (before === -1) this.listHead[order] = after;
    else this.next[before] = after;
    if (after !== -1) this.prev[after] = before;
    this.blkFree[pfn] = 0;
  }

  /** buddy_alloc(): the head of the smallest non-empty list of at least `order`, split down. */
  allocPages(order: number): number {
    let o = order;
    while (o < NR_ORDERS && this.listHead[o] === -1) o++;
    if (o === NR_ORDERS) return -1;
    const pfn = this.listHead[o]!;
    this.remove(o, pfn);
    for (; o > order; o--) this.push(o - 1, pfn + (1 << (o - 1)));
    this.blkOrder[pfn] = order;
    return pfn;
  }

  /** buddy_free(): merge while the buddy is a free block of the same order. */
  freePages(pfn: number, order: number): void {
    for (; order < TOP; order++) {
      const buddy = pfn ^ (1 << order);
      if (buddy >= this.nrPages || !this.blkFree[buddy] || this.blkOrder[buddy] !== order) break;
      this.remove(order, buddy);
      pfn &= ~(1 << order);
    }
    this.push(order, pfn);
  }
}
