/*
 * refbuddy: a plain binary buddy allocator in C, the yardstick `npm run bench` holds the
 * simulator's page allocator against (bench/alloc.ts).
 *
 * Orders 0..10 (MAX_PAGE_ORDER, 4 MiB blocks of 4 KiB pages). One free list per order, doubly
 * linked through arrays indexed by pfn, like the kernel's free_area[order].free_list: a block is
 * taken from the head, the upper halves of a split go to the head, and a freed block, merged with
 * its free buddies, goes to the head. At start every 2^10-page block is free, pushed in
 * ascending pfn order (so the highest is at the head).
 *
 * The workload is the bench's: `ops` order-0 operations on `pages` pages. Below half of the pages
 * live it allocates; above 90 % it frees; in between a xorshift64 (13, 7, 17) draw decides, and
 * a free releases a live page chosen by another draw (swap-remove from the live array). The same
 * sequence drives the TypeScript side, which checks that both end with the same number of live
 * pages.
 *
 *   refbuddy [pages [ops [--digest]]]
 *
 * prints `pages=N ops=N time=Ss ns/op=X Mops/s=X live=N`. With --digest the loop also hashes
 * (FNV-1a, 64 bits) every pfn handed out and every pfn freed, in order, and appends
 * `digest=<16 hex digits>`: two allocators that agree on it made the same choices operation for
 * operation. The timed figures come from runs without it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

enum { NR_ORDERS = 11, TOP = NR_ORDERS - 1 };
#define NIL (-1)

static uint32_t nr_pages;
static int32_t *link_next, *link_prev; /* free-list links of block heads */
static uint8_t *blk_order;             /* order of the block headed here (free or handed out) */
static uint8_t *blk_free;              /* 1 while a free block is headed here */
static int32_t list_head[NR_ORDERS];

static void list_push(int order, uint32_t pfn)
{
	int32_t first = list_head[order];

	link_prev[pfn] = NIL;
	link_next[pfn] = first;
	if (first != NIL)
		link_prev[first] = (int32_t)pfn;
	list_head[order] = (int32_t)pfn;
	blk_order[pfn] = (uint8_t)order;
	blk_free[pfn] = 1;
}

static void list_remove(int order, uint32_t pfn)
{
	int32_t before = link_prev[pfn], after = link_next[pfn];

	if (before == NIL)
		list_head[order] = after;
	else
		link_next[before] = after;
	if (after != NIL)
		link_prev[after] = before;
	blk_free[pfn] = 0;
}

/* The head of the smallest non-empty list of at least `order`, split down; -1 when none. */
static int64_t buddy_alloc(int order)
{
	int o = order;
	uint32_t pfn;

	while (o < NR_ORDERS && list_head[o] == NIL)
		o++;
	if (o == NR_ORDERS)
		return -1;
	pfn = (uint32_t)list_head[o];
	list_remove(o, pfn);
	for (; o > order; o--)
		list_push(o - 1, pfn + (1u << (o - 1)));
	blk_order[pfn] = (uint8_t)order;
	return pfn;
}

/* Free the block at pfn, merging while its buddy is a free block of the same order. */
static void buddy_free(uint32_t pfn, int order)
{
	for (; order < TOP; order++) {
		uint32_t buddy = pfn ^ (1u << order);

		if (buddy >= nr_pages || !blk_free[buddy] || blk_order[buddy] != order)
			break;
		list_remove(order, buddy);
		pfn &= ~(1u << order);
	}
	list_push(order, pfn);
}

static uint64_t rng_state = 88172645463325252ull;

static inline uint64_t rng_next(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static uint64_t digest = 14695981039346656037ull;

static inline void digest_pfn(uint32_t pfn)
{
	for (int i = 0; i < 4; i++) {
		digest ^= (pfn >> (8 * i)) & 0xff;
		digest *= 1099511628211ull;
	}
}

static void *xmalloc(size_t n)
{
	void *p = calloc(n, 1);

	if (!p) {
		fprintf(stderr, "refbuddy: out of memory\n");
		exit(1);
	}
	return p;
}

int main(int argc, char **argv)
{
	long ops = 20000000;
	int with_digest = 0;
	uint32_t *live, nr_live = 0, half, high;
	struct timespec t0, t1;
	double secs;

	nr_pages = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 1u << 20;
	if (argc > 2)
		ops = strtol(argv[2], NULL, 10);
	with_digest = argc > 3;
	if (nr_pages == 0 || nr_pages % (1u << TOP) || ops <= 0) {
		fprintf(stderr, "refbuddy: pages must be a non-zero multiple of %u, ops positive\n",
			1u << TOP);
		return 2;
	}
	half = nr_pages / 2;
	high = (nr_pages * 9) / 10;

	link_next = xmalloc(sizeof(*link_next) * nr_pages);
	link_prev = xmalloc(sizeof(*link_prev) * nr_pages);
	blk_order = xmalloc(nr_pages);
	blk_free = xmalloc(nr_pages);
	live = xmalloc(sizeof(*live) * nr_pages);
	for (int o = 0; o < NR_ORDERS; o++)
		list_head[o] = NIL;
	for (uint32_t pfn = 0; pfn < nr_pages; pfn += 1u << TOP)
		list_push(TOP, pfn);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0; i < ops; i++) {
		int alloc;

		if (nr_live < half)
			alloc = 1;
		else if (nr_live > high)
			alloc = 0;
		else
			alloc = (int)(rng_next() & 1);
		if (alloc) {
			int64_t pfn = buddy_alloc(0);

			if (pfn >= 0) {
				live[nr_live++] = (uint32_t)pfn;
				if (with_digest)
					digest_pfn((uint32_t)pfn);
			}
		} else {
			uint32_t j = (uint32_t)(rng_next() % nr_live);

			if (with_digest)
				digest_pfn(live[j]);
			buddy_free(live[j], 0);
			live[j] = live[--nr_live];
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;

	printf("pages=%u ops=%ld time=%.3fs ns/op=%.1f Mops/s=%.1f live=%u", nr_pages, ops, secs,
	       secs * 1e9 / (double)ops, (double)ops / secs / 1e6, nr_live);
	if (with_digest)
		printf(" digest=%016llx", (unsigned long long)digest);
	printf("\n");
	return 0;
}
