import { defineWorkload } from 'cmascope';

// A public incident the model does NOT reproduce, kept to show what the modelled kernels do
// instead: runs of `alloc_contig_range: [..) PFNs busy` from file-system pages in CMA on a 4.10
// kernel (kernel-model.md §2.3, §2.4; the README's "Bundled workloads" says why).
//
// The reports
//   anholt/linux#76 "CMA allocation issues and vc4 crash with 4.10 rc 2/3"
//     (https://github.com/anholt/linux/issues/76): Fedora 25 on a Raspberry Pi 3 (1 GiB). On 4.8
//     and 4.9 the occasional `alloc_contig_range: [2191e, 2191f) PFNs busy`; on 4.10-rc3 runs of
//       alloc_contig_range: [2f100, 2f20a) PFNs busy
//       alloc_contig_range: [2f200, 2f30a) PFNs busy   ... every window up to [2fe00, 2ff0a)
//       vc4-drm soc:gpu: failed to allocate buffer with size 1089536
//     that fill the log buffer, then vc4 crashes. 1089536 bytes are 266 pages; the windows step by
//     256 pages (align 8).
//   The cause, from the linux-mm thread "[PATCH] mm: alloc_contig: re-allow CMA to compact FS
//     pages" (Lucas Stach, 13 Jan 2017): 73e64c51afc5 ("mm, compaction: allow compaction for
//     GFP_NOFS requests", 4.10-rc1) made the migration scanner skip file-system pages unless the
//     compact_control allows __GFP_FS, and alloc_contig_range()'s did not: every window holding a
//     page-cache page failed. The fix, 424f6c4818bb, is in 4.10.
//   raspberrypi/linux#2647 (https://github.com/raspberrypi/linux/pull/2647) reverted that fix in
//     the Raspberry Pi 4.14 tree (video playback was slower with it), and raspberrypi/linux#2680
//     reported the failures back (`cma: cma_alloc: alloc failed, req-size: 1 pages, ret: -16`).
//
// The machine: a Raspberry Pi 3, 1 GiB of DRAM, 256 MiB of CMA at 0x20000000. The report gives no
// CMA size; the PFNs it prints end below 0x30000 and Pi kernels of the time booted with cma=256M
// (anholt/linux#114: `cma: Reserved 256 MiB`). A desktop's page cache and anonymous memory fill
// normal memory and drift into the area (the CMA-first rule, §1.6); then the GPU allocates 266-page
// buffer objects, align 8, as vc4_bo_create() → dma_alloc_wc() → cma_alloc() does (the model's
// 'cma' DMA-BUF heap).
//
// Kernel: 6.4, the nearest modelled version. What differs from 4.10-rc3, and why the symptom does
// not appear:
//   - 6.4's alloc_contig_range() isolates file pages (424f6c4818bb, later the caller's gfp_mask
//     itself): clean page cache is dropped, dirty page cache and anon are migrated, and the
//     buffers are allocated. The model has no switch for the 4.10-rc scanner and this workload
//     does not fake one.
//   - `PFNs busy` is no longer printed: the pr_info_ratelimited() was dropped in 5.13 ("mm/
//     page_alloc: drop pr_info_ratelimited() in alloc_contig_range()", David Hildenbrand). A busy
//     window shows only in the trace, as `test_pages_isolated: start_pfn=.. end_pfn=.. fin_pfn=..
//     ret=fail` (`run --trace`).
//
// Parameters:
//   appsMiB      the desktop's anonymous memory
//   cacheMiB     files read (clean page cache) and written (dirty page cache), half each
//   buffers      vc4 buffer objects of `bufferBytes` the GPU then allocates
//
// Expected outcome (the same under placement=kernel and pcp=on):
//   buffers_ok = 64 of 64, no failure, no kernel message, every test_pages_isolated ret=success;
//   the clean page cache in the windows was dropped and the rest migrated (pgmigrate_success =
//   8512 with placement=lowest-pfn, 143 with placement=kernel and pcp=on, which leave fewer pages
//   in the buffers' windows)
export default defineWorkload({
  name: 'rpi-fs-pages-busy',
  description:
    'Raspberry Pi page cache in CMA against vc4 buffers: 4.10-rc PFNs-busy runs, which 6.4 no longer has',
  machine: {
    memory: '1GiB',
    reserved: '64MiB',
    cma: [{ name: 'linux,cma', size: '256MiB', base: 0x2000_0000 }],
  },
  kernel: { version: '6.4' },
  params: { appsMiB: 448, cacheMiB: 256, buffers: 64, bufferBytes: 1089536 },
  duration: '30s',
  *main(sys, params) {
    sys.spawn('gnome-shell', { uid: 1000 }, function* (p) {
      const apps = yield* p.mmapAnon(`${params.appsMiB}MiB`);
      if (typeof apps === 'string') return sys.record('apps', apps);
      yield* p.touch(apps);
      yield p.sleep('1h');
    });

    sys.spawn('dnf', { uid: 0 }, function* (p) {
      yield p.sleep('1s');
      const half = `${params.cacheMiB / 2}MiB`;
      const repo = yield* p.open('/var/cache/dnf/primary.sqlite', { fs: 'ext4', size: half });
      const rpmdb = yield* p.open('/var/lib/rpm/Packages', { fs: 'ext4', size: half });
      if (typeof repo === 'string' || typeof rpmdb === 'string') return sys.record('dnf', 'ENOENT');
      yield* p.read(repo, half); // clean page cache
      yield* p.write(rpmdb, half); // dirty page cache
      yield p.sleep('1h');
    });

    const gpu = sys.spawn('Xwayland', { uid: 1000 }, function* (p) {
      yield p.sleep('5s');
      let ok = 0;
      for (let i = 0; i < params.buffers; i++) {
        const bo = yield* p.dmaHeapAlloc('linux,cma', params.bufferBytes);
        if (typeof bo !== 'string') ok++;
      }
      sys.record('buffers_ok', ok);
      yield p.sleep('5s');
    });
    yield sys.wait(gpu);
  },
});
