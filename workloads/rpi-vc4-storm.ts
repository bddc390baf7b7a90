import { defineWorkload } from 'cmascope';

// A public incident: Raspberry Pi vc4-drm GPU buffers against a 64 MiB CMA area, and the storm of
// `cma: cma_alloc: alloc failed, req-size: 2040 pages, ret: -12` that follows (kernel-model.md
// §2.3, §2.7, §5.5).
//
// The reports
//   anholt/linux#94 "cma_alloc issue mainline 4.11 rc2" (https://github.com/anholt/linux/issues/94):
//     a Raspberry Pi 3 (1 GiB, bcm2836-rpi-b-2.dtb, Raspbian, 4.11.0-rc2) booted with
//     `cma: Reserved 64 MiB at 0x2b000000`. Under the desktop the log repeats, several times a
//     second,
//       cma: cma_alloc: alloc failed, req-size: 2040 pages, ret: -12
//       vc4-drm soc:gpu: failed to allocate buffer with size 8355840
//       [drm:vc4_bo_create] *ERROR* Failed to allocate from CMA:
//       [drm] num bos allocated: 64   [drm] size bos allocated: 62328kb
//     and the maintainer's answer: "You're going to need more than 64MB of CMA to do graphics"
//     (gpu_mem=256 is not CMA). 2040 pages are 8355840 bytes, a 1920×1088 XRGB8888 buffer (1080
//     lines padded to a multiple of 32).
//   raspberrypi/linux#2966 "cma_alloc: alloc failed, req-size: 2025 pages, ret: -12"
//     (https://github.com/raspberrypi/linux/issues/2966): the same message on 4.19.40-v7+, Pi 3B,
//     for 2025 pages (8294400 bytes, 1920×1080×4: the frame buffer).
//
// What the model shows. The CMA area is handed out: the GPU's buffer objects hold 62272 kB of the
// 64 MiB in the bitmap, the largest free aligned run is 768 pages, and a 2040-page request finds
// no window at all. No page blocks anything and nothing is migrated; cma_alloc() returns with the
// errno it started with, which is -ENOMEM up to 6.14 (§2.7). The compositor asks again every
// frame, so every frame logs the failure.
//
// The machine: 1 GiB of DRAM at 0, 64 MiB CMA at 0x2b000000 (the report's `cma: Reserved` line),
// named `linux,cma` as the Pi device tree's reserved-memory node is. The area is the vc4 device's
// CMA: vc4_bo_create() → dma_alloc_wc() → cma_alloc() with align = min(get_order(size), 8), which
// is what the model's 'cma' DMA-BUF heap does, so the GPU's buffers are heap buffers here.
//
// Kernel: 6.4, the nearest modelled version to 4.11 and 4.19. Its line differs from the reports'
// in one field: later kernels print the area's name after the function (`cma: cma_alloc: linux,cma:
// alloc failed, ...`). Under --kernel 6.18 the same run fails with -16 (6.15 starts `ret` at -EBUSY and
// exits early when count > available_count) and each line is followed by
// cma_debug_show_areas(): the free runs of the bitmap (§2.6).
//
// Parameters:
//   targets      full-screen render targets the compositor keeps (2040 pages each)
//   textures     256 KiB texture and shader BOs (64 pages each)
//   frames       frames at which the client asks for one more render target (one every 16 ms)
//   requestPages what it asks for, in pages (2025: the frame buffer of raspberrypi/linux#2966)
//
// Expected outcome (the same under every teePin/teeAccounting, placement and pcp: nothing here is
// movable):
//   kernel 6.4   targets_ok = 6, textures_ok = 52, failed_frames = 20: twenty cma_alloc failures,
//                each ENOMEM (-12) with no window tried, and twenty
//                `cma: cma_alloc: linux,cma: alloc failed, req-size: 2040 pages, ret: -12` lines
export default defineWorkload({
  name: 'rpi-vc4-storm',
  description:
    'Raspberry Pi vc4 buffers fill a 64 MiB CMA area: every frame logs alloc failed, req-size: 2040 pages, ret: -12',
  machine: {
    memory: '1GiB',
    reserved: '64MiB', // kernel image, the firmware's share below the ARM split
    cma: [{ name: 'linux,cma', size: '64MiB', base: 0x2b00_0000 }],
  },
  kernel: { version: '6.4' },
  params: { targets: 6, textures: 52, frames: 20, requestPages: 2040 },
  duration: '10s',
  *main(sys, params) {
    const xorg = sys.spawn('Xorg', { uid: 0 }, function* (p) {
      yield p.sleep('1s'); // the desktop comes up
      let targets = 0;
      for (let i = 0; i < params.targets; i++) {
        const bo = yield* p.dmaHeapAlloc('linux,cma', 2040 * 4096);
        if (typeof bo !== 'string') targets++;
      }
      let textures = 0;
      for (let i = 0; i < params.textures; i++) {
        const bo = yield* p.dmaHeapAlloc('linux,cma', '256KiB');
        if (typeof bo !== 'string') textures++;
      }
      sys.record('targets_ok', targets);
      sys.record('textures_ok', textures);
      // a window opens: one more render target, asked for again every frame
      yield p.sleep('1s');
      let failed = 0;
      for (let f = 0; f < params.frames; f++) {
        const bo = yield* p.dmaHeapAlloc('linux,cma', params.requestPages * 4096);
        if (typeof bo === 'string') failed++;
        else yield* p.close(bo);
        yield p.sleep('16ms');
      }
      sys.record('failed_frames', failed);
      yield p.sleep('5s');
    });
    yield sys.wait(xorg);
  },
});
