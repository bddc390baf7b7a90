import { defineWorkload } from 'cmascope';

// A public incident: a 2 GiB `shared-dma-pool` region on a ZynqMP board whose single allocation,
// the whole region at once, fails on one page (kernel-model.md §2.3, §2.4, §4.7).
//
// The report: ikwzm/udmabuf#98 "Attempting to allocate a large buffer in the CMA area of
// reserved_memory fails to allocate a page" (https://github.com/ikwzm/udmabuf/issues/98; also
// ikwzm/udmabuf#97). A Xilinx ZCU102 (ZynqMP, arm64, Petalinux 2020.2, Linux 5.4.0-xilinx) with
// 4 GiB of DRAM in two banks, `reg = <0x0 0x0 0x0 0x80000000>, <0x8 0x0 0x0 0x80000000>`, and a
// reusable `shared-dma-pool` node `image_buf@0` covering the whole upper bank (2 GiB at
// 0x8_0000_0000). The u-dma-buf driver asks dma_alloc_coherent() for the whole region
// (size = <0x80000000>), 29 s after boot:
//   cma: cma_alloc: alloc failed, req-size: 524288 pages, ret: -16
//   cma: number of available pages: 524288@0=> 524288 free of 524288 total pages
// then dma-direct falls back to alloc_pages() with an order above MAX_ORDER and warns. The bitmap
// is entirely free: the one window there is (count = the whole area) failed -EBUSY on a page of
// the region that the buddy allocator had lent out and that could not be migrated. The report
// does not say which page; the thread leaves the cause open.
//
// What the model shows. Boot-time memory lands in the region by the CMA-first rule (the region is
// more than half of free memory, §1.6), so at t = 29 s the region holds movable pages. A data
// logger has a 4 KiB O_DIRECT write in flight from a buffer in the region: a short-term
// reference on its page (FOLL_GET in 6.4, a FOLL_PIN pin in 6.18). That is the workload's assumption for the page the report
// does not name; it is the simplest holder the model reproduces faithfully, and `--set ioMs=0`
// removes it. alloc_contig_range() migrates every other page of the window, test_pages_isolated()
// stops at the pinned one, and as the request is the whole area no second window exists: one page
// out of 524288 fails the allocation.
//
// The machine, and what differs from the report: 4 GiB modelled as one bank, the lower 2 GiB
// moved up to sit right below the region (DRAM from 0x7_8000_0000), so the region keeps its
// address and pfns (base_pfn 0x800000) and the model's single Normal zone holds both banks (the
// report's lower bank is ZONE_DMA32). 256 MiB reserved for the kernel, firmware and the PL's
// carve-outs. The driver's dma_alloc_coherent() reaches cma_alloc() with
// align = min(get_order(size), 8), as the model's 'cma' DMA-BUF heap does.
//
// Kernel: 6.4, the nearest modelled version to 5.4. The first line names the area (added after 5.4)
// (`cma: cma_alloc: image_buf@0: alloc failed, req-size: 524288 pages, ret: -16`), and 6.4 prints
// the free-run summary only with CONFIG_CMA_DEBUG, which the model leaves off; under --kernel
// 6.18 it always follows (`cma: range 0: 524288@0`, `=> 524288 free of 524288 total pages`), as
// in the report.
//
// Parameters:
//   bootMiB      anonymous memory and page cache of the boot-time services, most of it in the region
//   ioMs         how long the logger's O_DIRECT write, started at t = 29 s, is in flight (0: none)
//
// Expected outcome (the same under teePin/teeAccounting, placement=kernel and pcp=on):
//   udmabuf_probe = ENOMEM: one cma_alloc of 524288 pages, EBUSY after one window whose fin_pfn
//   is the logger's page (blame: daq via o_direct: pfn 0x80c000 with placement=lowest-pfn,
//   0x873c33 with placement=kernel and pcp=on); the boot services' 24576 anonymous pages in the
//   window were migrated and their clean page cache dropped
//   With --set ioMs=0: udmabuf_probe = ok
export default defineWorkload({
  name: 'zynqmp-udmabuf',
  description:
    'ZynqMP: u-dma-buf asks for a whole 2 GiB shared-dma-pool region at once and fails on one page',
  machine: {
    memory: '4GiB',
    dramBase: 0x7_8000_0000,
    reserved: '256MiB',
    cma: [{ name: 'image_buf@0', size: '2GiB', base: 0x8_0000_0000 }],
  },
  kernel: { version: '6.4' },
  params: { bootMiB: 192, ioMs: 1000 },
  duration: '40s',
  *main(sys, params) {
    sys.spawn('systemd', { uid: 0 }, function* (p) {
      const anon = yield* p.mmapAnon(`${params.bootMiB / 2}MiB`);
      if (typeof anon !== 'string') yield* p.touch(anon);
      const rootfs = yield* p.open('/usr/lib/libs.img', {
        fs: 'ext4',
        size: `${params.bootMiB / 2}MiB`,
      });
      if (typeof rootfs !== 'string') yield* p.read(rootfs, `${params.bootMiB / 2}MiB`); // page cache
      yield p.sleep('1h');
    });

    sys.spawn('daq', { uid: 1000 }, function* (p) {
      yield p.sleep('10s');
      const buf = yield* p.mmapAnon('4KiB');
      if (typeof buf === 'string') return sys.record('daq', buf);
      yield* p.touch(buf); // in the region: free CMA still exceeds free normal memory
      if (params.ioMs === 0) return;
      yield p.sleep(29e9 - sys.now()); // t = 29 s: a write to the SD card, slow
      yield* p.directIo(buf, { duration: `${params.ioMs}ms`, read: false });
      yield p.sleep('1h');
    });

    const insmod = sys.spawn('insmod', { uid: 0 }, function* (p) {
      yield p.sleep('29.126s'); // insmod u-dma-buf.ko: the probe allocates the whole region
      const fd = yield* p.dmaHeapAlloc('image_buf@0', '2GiB');
      sys.record('udmabuf_probe', typeof fd === 'string' ? fd : 'ok');
      if (typeof fd !== 'string') yield* p.close(fd);
    });
    yield sys.wait(insmod);
  },
});
