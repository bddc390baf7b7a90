// Panels drawn from frames captured from the real default workload (fixtures/capture.mjs):
// exact strings for what a user reads — the blame line, the map legend, the processes table, the
// drill-down — and a layout that fits every terminal size.
import { renderToString } from 'ink';
import { render } from 'ink-testing-library';
import { describe, expect, test } from 'vitest';
import { visible } from '../../src/metrics/fmt.js';
import { Screen } from '../../src/tui/app.js';
import { CmaPanel } from '../../src/tui/cma-panel.js';
import { ErrorPanel } from '../../src/tui/error-panel.js';
import { FailureDetail } from '../../src/tui/failure-detail.js';
import { FailuresPanel } from '../../src/tui/failures-panel.js';
import { initialModel, type Model, reduceModel } from '../../src/tui/model.js';
import { ProcessesPanel } from '../../src/tui/processes-panel.js';
import { StatusLine } from '../../src/tui/status-line.js';
import { TracePanel } from '../../src/tui/trace-panel.js';
import { initialUi, type UiState } from '../../src/tui/ui-state.js';
import type { LiveFrame } from '../../src/workload/protocol.js';
import { ascii, colour, frame, mono, strip } from './helpers.js';

const up = frame('upstream-failure');
const v2 = frame('v2-finished');

const modelOf = (...frames: LiveFrame[]): Model =>
  frames.reduce(
    (m, f) => reduceModel(m, { type: 'frame', frame: f }),
    reduceModel(initialModel(), {
      type: 'started',
      workload: 'secure-playback',
      description: '',
      reason: 'start',
    }),
  );

const screen = (
  f: LiveFrame,
  columns: number,
  rows: number,
  ui: Partial<UiState> = {},
  theme = mono,
) =>
  strip(
    renderToString(
      <Screen
        model={modelOf(f)}
        ui={{ ...initialUi(1), ...ui }}
        size={{ columns, rows }}
        theme={theme}
        cwd="/work/main"
      />,
      { columns },
    ),
  );

const cma = (f: LiveFrame, theme = mono) =>
  strip(
    render(
      <CmaPanel
        areas={f.snapshot.cma}
        maps={f.view.maps}
        history={modelOf(f).history}
        width={100}
        height={12}
        mapRows={4}
        histRows={2}
        areasShown={1}
        offset={0}
        focused={false}
        theme={theme}
      />,
    ).lastFrame(),
  );

describe('CMA panel', () => {
  test('the legend gives the glyph of every state and its page count', () => {
    const out = cma(up);
    expect(out).toContain(
      '· free 56783  ▒ cma_client 0  ░ movable 0  s pinned short 8255  L pinned long 0  i isolated 0',
    );
    expect(cma(up, ascii)).toContain(
      '. free 56783  # cma_client 0  + movable 0  s pinned short 8255  L pinned long 0  i isolated 0',
    );
  });

  test('the bitmap free ranges (maxchunk, pages@offset) and the longest movable run beside them', () => {
    // upstream: the whole bitmap is free, and pinned pages cut it to runs of at most 36864
    expect(cma(up)).toContain(
      'bitmap free 1 range, maxchunk 65536 (256M)  movable run 36864 (144M)  65536@0',
    );
    expect(cma(v2)).toContain(
      'bitmap free 1 range, maxchunk 14336 (56M)  movable run 14336 (56M)  14336@51200',
    );
  });

  test('the map shows the short-term pinned pages under upstream and the secure buffer under v2', () => {
    const upMap = cma(up).split('\n').slice(2, 6).join('');
    expect(upMap).toMatch(/s{20,}/);
    expect(upMap).not.toContain('▒');
    const v2Map = cma(v2).split('\n').slice(2, 6).join('');
    expect(v2Map).toMatch(/▒{50,}/);
    expect(v2Map).not.toMatch(/[sL]/);
    expect(cma(up)).toContain(
      'svp  256M at 0x30000000 pfn 0x30000  free 222M  used 0  alloc ok 0 fail 51200  cell ≈ 168 pages',
    );
  });

  test('the history chart of free CMA, with its labels', () => {
    const out = cma(up);
    expect(out).toContain('free CMA');
    expect(out).toContain('now 222M');
    expect(out).toMatch(/[⡀-⣿]/u);
    expect(cma(up, ascii)).not.toMatch(/[⠀-⣿]/u);
  });
});

describe('failures panel', () => {
  /** the panel as Ink draws it, styles included */
  const panel = (f: LiveFrame, theme = mono, width = 100) =>
    render(
      <FailuresPanel
        failures={f.snapshot.failures}
        total={f.snapshot.failures_total}
        processes={f.snapshot.processes}
        results={f.snapshot.results}
        selected={undefined}
        width={width}
        height={8}
        focused={false}
        theme={theme}
      />,
    ).lastFrame()!;
  const failures = (f: LiveFrame, theme = mono) => strip(panel(f, theme));

  test("a workload's control characters are shown as \\xHH, never sent to the terminal", () => {
    const f = structuredClone(up);
    const esc = '\u001b[2J\u0000\n';
    f.snapshot.results = { [`key${esc}`]: `value${esc}` };
    f.snapshot.failures[0]!.blocker!.comm = `evil${esc}`;
    const out = panel(f, mono, 120);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the theme's own styles (SGR) go
    const text = out.replace(/\u001b\[[0-9;]*m/g, '');
    expect(visible(text, true)).toBe(text); // no control character but line feeds
    expect(out).toContain('key\\x1b[2J\\x00\\x0a=value\\x1b[2J\\x00\\x0a');
    expect(out).toContain('→ evil\\x1b[2J\\x00\\x0a[102]');
  });

  test('blame: blocking PFN → process → path', () => {
    const out = failures(up);
    expect(out).toContain(
      '▶ t=5.902s cma_alloc svp 51200 pages EBUSY  pfn 0x39000 → drm-client[102] → tee_shm id 1',
    );
    expect(out).toContain('  t=5.902s dma_heap_alloc ENOMEM  caller mediaserver[103]');
    expect(out).toContain('Failures (2)');
    expect(failures(up, ascii)).toContain('pfn 0x39000 -> drm-client[102] -> tee_shm id 1');
  });

  test.each([
    [
      100,
      ['▶ t=5.902s cma_alloc svp 51200 pages EBUSY  pfn 0x39000 → drm-client[102] → tee_shm id 1'],
    ],
    [80, ['▶ 5.902s cma_alloc svp EBUSY  pfn 0x39000 → drm-client[102] → tee_shm id 1']],
    [70, ['▶ cma_alloc EBUSY  pfn 0x39000 → drm-client[102] → tee_shm id 1']],
    [
      50,
      [
        '▶ t=5.902s cma_alloc svp 51200 pages EBUSY',
        '      pfn 0x39000 → drm-client[102]',
        '      → tee_shm id 1',
      ],
    ],
  ])(
    '%i columns: the blame is never cut; the other fields give way, then it wraps (issue #14 item 1)',
    (width, want) => {
      const lines = strip(panel(up, mono, width))
        .split('\n')
        .map((l) => l.slice(1, -1).trimEnd());
      const at = lines.findIndex((l) => l.startsWith('▶'));
      expect(lines.slice(at, at + want.length)).toEqual(want);
    },
  );

  test('the results say whether playback started', () => {
    expect(failures(up)).toContain(
      'results tee_register=ok  playback_start=ENOMEM  sessions_ok=0  sessions_failed=1',
    );
    const ok = failures(v2);
    expect(ok).toContain('results tee_register=ok  playback_start=ok');
    expect(ok).toContain('no failures yet');
  });
});

describe('failure drill-down', () => {
  const detail = (theme = mono) =>
    strip(
      render(
        <FailureDetail
          index={0}
          failures={up.snapshot.failures}
          total={up.snapshot.failures_total}
          processes={up.snapshot.processes}
          areas={up.snapshot.cma}
          maps={up.view.maps}
          holders={up.holders}
          width={100}
          height={24}
          mapRows={3}
          theme={theme}
        />,
      ).lastFrame(),
    );

  test('the window tried, each blocking page with its holder, the page on the map', () => {
    const out = detail();
    expect(out).toContain('Failure 1 of 2  t=5.902s  cma_alloc  EBUSY  caller mediaserver[103]');
    expect(out).toContain('blame     pfn 0x39000 → drm-client[102] → tee_shm id 1');
    expect(out).toContain(
      'request   51200 pages (200M) from svp [base pfn 0x30000, 65536 pages (256M)]',
    );
    expect(out).toContain('related   #2 dma_heap_alloc ENOMEM');
    // every window of the failure, from its record: none is lost to a trace tail
    const lines = out.split('\n').map((l) => l.slice(1, -1).trimEnd());
    const at = lines.indexOf(
      'windows   57 failed windows, first [0x30000, 0x3c800) fin_pfn 0x39000',
    );
    expect(lines.slice(at + 1, at + 3)).toEqual([
      '          last [0x33800, 0x40000) fin_pfn 0x39000',
      '          1 distinct blocking page (the fin_pfn of each failed window)',
    ]);
    expect(out).toContain('why       pinned without FOLL_LONGTERM (tee_shm)');
    expect(out).toContain(
      'holder    drm-client[102] uid 1000 now: pinned short 64M, long 0, in CMA 32M',
    );
    expect(out).toContain('0x39000       36864  s pinned short   drm-client[102] via tee_shm id 1');
    expect(out).toContain('map of svp now, X = a blocking page');
    expect(out.match(/X/g)?.length).toBe(2); // the legend's and the page's
  });
});

describe('memlock blame (issue 12 item 5)', () => {
  /** C20 step 2: P2 (pid 103 here) asks for 4 MiB while P1's ring holds 6 MiB of uid 1000 */
  const f = structuredClone(up);
  f.snapshot.failures = [
    {
      t: 1e9,
      op: 'io_uring_register_buffers',
      pid: 103,
      errno: 'ENOMEM',
      memlock: {
        counter: 'user.locked_vm',
        uid: 1000,
        held: 1536,
        requested: 1024,
        limit: 2048,
        capIpcLock: false,
        subsystem: 'io_uring',
        chargedBy: [{ subsystem: 'io_uring', pid: 102, pages: 1536 }],
      },
    },
  ];
  f.snapshot.failures_total = 1;

  test('the failures list and the drill-down name the counter, the limit and who charged it', () => {
    const list = strip(
      render(
        <FailuresPanel
          failures={f.snapshot.failures}
          total={1}
          processes={f.snapshot.processes}
          results={{}}
          selected={undefined}
          width={120}
          height={8}
          focused={false}
          theme={mono}
        />,
      ).lastFrame(),
    );
    expect(list).toContain(
      't=1.000s io_uring_register_buffers ENOMEM  user 1000 locked_vm 1536 + 1024 > 2048 pages (RLIMIT_MEMLOCK 8 MiB)',
    );
    const detail = strip(
      render(
        <FailureDetail
          index={0}
          failures={f.snapshot.failures}
          total={1}
          processes={f.snapshot.processes}
          areas={f.snapshot.cma}
          maps={f.view.maps}
          holders={undefined}
          width={100}
          height={12}
          mapRows={3}
          theme={mono}
        />,
      ).lastFrame(),
    );
    expect(detail).toContain(
      'blame     user 1000 locked_vm 1536 + 1024 > 2048 pages (RLIMIT_MEMLOCK 8 MiB)',
    );
    expect(detail).toContain('charged   by io_uring ring of pid 102 (1536 pages)');
    expect(detail).not.toContain('fields'); // every field is shown in words
  });
});

describe('processes panel', () => {
  const procs = (f: LiveFrame, over: Partial<Parameters<typeof ProcessesPanel>[0]> = {}) =>
    strip(
      render(
        <ProcessesPanel
          processes={f.snapshot.processes}
          users={f.snapshot.users}
          sort={{ key: 'pid', desc: false }}
          filter=""
          row={0}
          width={100}
          height={8}
          focused={false}
          theme={mono}
          {...over}
        />,
      ).lastFrame(),
    );

  test('pid, comm, uid, RSS, pins short/long/in CMA, VmLck, VmPin, memlock gauge, denials', () => {
    const out = procs(up);
    expect(out).toContain(
      'PID▲ COMM            S   UID   RSS PIN-S PIN-L IN-CMA VmLck VmPin MEMLOCK               DENIED',
    );
    expect(out).toContain(
      '102 drm-client      R  1000   64M   64M     0    32M     0     0 ········   0% /8.0M        0',
    );
    expect(out).toContain(
      '100 secure-playback R     0     0     0     0      0     0     0 ········ CAP_IPC_LOCK      0',
    );
    expect(procs(v2)).toContain(
      '102 drm-client      R  1000   64M     0   64M      0     0     0 ········   0% /8.0M        0',
    );
  });

  test('a column sorted on keeps its whole name; the arrow only where it fits (issue #14 item 4)', () => {
    for (const key of ['short', 'inCma', 'denied'] as const) {
      const out = procs(up, { sort: { key, desc: true } });
      expect(out).toContain(
        'PID COMM            S   UID   RSS PIN-S PIN-L IN-CMA VmLck VmPin MEMLOCK               DENIED',
      );
    }
    expect(procs(up, { sort: { key: 'rss', desc: true } })).toContain('  RSS▼ PIN-S');
  });

  test('the memlock gauge warns near the limit and marks denials, by glyph as well as colour', () => {
    const p = up.snapshot.processes;
    const near = p.map((q) => (q.pid === 102 ? { ...q, VmPin: 7600, memlock_denied: 3 } : q));
    const out = procs(up, { processes: near });
    expect(out).toContain(
      '102 drm-client      R  1000   64M   64M     0    32M     0  7.4M ███████·  93%!/8.0M       3!',
    );
  });
});

test('trace panel: the newest lines, newest last', () => {
  const out = strip(
    render(
      <TracePanel
        events={up.view.events}
        filter=""
        back={0}
        width={120}
        height={5}
        focused={false}
        theme={mono}
      />,
    ).lastFrame(),
  );
  const lines = out.split('\n');
  expect(lines[3]).toContain(
    '5.902118: cma:cma_alloc_finish: name=svp pfn=0x0 page=0000000000000000 count=51200 align=8 errorno=-16',
  );
  const filtered = strip(
    render(
      <TracePanel
        events={up.view.events}
        filter="alloc failed"
        back={0}
        width={120}
        height={5}
        focused={false}
        theme={mono}
      />,
    ).lastFrame(),
  );
  expect(filtered).toContain(
    '[    5.902118] cma: __cma_alloc: svp: alloc failed, req-size: 51200 pages, ret: -16',
  );
  expect(filtered).toContain('filter "alloc failed"');
});

test('status line: workload, kernel and policies, seed, preset, time, speed, state', () => {
  const status = (f: LiveFrame, speed: number, theme = mono) =>
    strip(
      render(
        <StatusLine
          frame={f}
          workload="secure-playback"
          preset={0}
          speed={speed}
          error={false}
          width={100}
          theme={theme}
        />,
      ).lastFrame(),
    );
  // 100 columns: the policies give way, the time, speed and state never do
  expect(status(up, 1)).toBe(
    'secure-playback │ 6.18 teePin=upstream teeAccounting=none │ seed 1 · prese… t=5.902s │ 1× │ ⏸ PAUSED',
  );
  expect(status(v2, Infinity)).toMatch(/t=10\.000s │ max │ ■ FINISHED$/);
  expect(status({ ...up, paused: false }, 0.25, ascii)).toMatch(
    /t=5\.902s \| 0\.25x \| > RUNNING$/,
  );
});

test('error panel: file:line:column, the message and the code frame', () => {
  const out = strip(
    render(
      <ErrorPanel
        error={{
          phase: 'load',
          message: 'TypeError: p.mmapAnon is not a function',
          location: { file: '/work/main/workloads/broken.ts', line: 12, column: 5 },
          frame: '  12 |     p.mmapAnon(1);\n     |     ^',
        }}
        cwd="/work/main"
        hasRun
        stopped={false}
        width={100}
        height={7}
        theme={colour}
      />,
    ).lastFrame(),
  );
  expect(out).toContain('Error loading the workload');
  expect(out).toContain('workloads/broken.ts:12:5: TypeError: p.mmapAnon is not a function');
  expect(out).toContain('  12 |     p.mmapAnon(1);');
  expect(out).toContain('the last good run keeps going above');
});

describe('process detail (issue #14 item 10)', () => {
  test('80×24: the drill-down wraps its long lines, never cuts them (issue #14 item 1)', () => {
    const out = screen(up, 80, 24, { detail: true })
      .split('\n')
      .map((l) => l.slice(1, -1).trimEnd());
    const why = out.findIndex((l) => l.startsWith('why'));
    expect(out.slice(why, why + 2)).toEqual([
      'why       pinned without FOLL_LONGTERM (tee_shm): the page stayed in CMA and',
      '          cannot migrate while the pin is held',
    ]);
  });

  test.each([
    [80, 24],
    [120, 40],
    [200, 50],
  ])(
    '%i×%i: memlock counters against the limit, pins by holder, mappings, failures',
    (columns, rows) => {
      const out = screen(up, columns, rows, { procDetail: 102, focus: 'processes' }).replace(
        /[║│]/g,
        ' ',
      );
      for (const line of [
        'drm-client[102]  uid 1000  running  RSS 64M',
        'memlock   RLIMIT_MEMLOCK 8 MiB (2048 pages), CAP_IPC_LOCK no, 0 denied',
        // a TEE registration without FOLL_LONGTERM: short-term pins, half of them in CMA
        'tee_shm        1    16384  short-term     8255',
        'Failures  0 of its own, 1 blocked by its pages',
        'Mappings (/proc/102/maps)  1',
        '7f0000000000-7f0004000000 rw-p 00000000 00:00 0',
      ])
        expect(out).toContain(line);
      expect(out).toContain(
        rows < 30
          ? 'VmLck 0  VmPin 0  user 1000 locked_vm 0 of 2048 pages each'
          : 'VmPin (mm->pinned_vm)            0 of 2048 pages  0%',
      );
      if (columns >= 100)
        expect(out).toContain(
          '7f0000000000-7f0004000000 rw-p 00000000 00:00 0    16384    16384     8255  no',
        );
    },
  );
});

describe('layout', () => {
  test.each([
    [80, 24],
    [100, 30],
    [120, 40],
    [149, 45],
    [150, 45],
    [200, 50],
    [300, 80],
  ])('%i×%i: exactly rows - 1 lines, none wider than the terminal', (columns, rows) => {
    for (const ui of [
      {},
      { detail: true },
      { help: true },
      { focus: 'trace' as const },
      { procDetail: 102 },
    ]) {
      for (const f of [up, v2]) {
        const lines = screen(f, columns, rows, ui).split('\n');
        expect(lines).toHaveLength(rows - 1);
        for (const l of lines) expect([...l].length).toBeLessThanOrEqual(columns);
      }
    }
  });

  test.each([
    [80, 24, '1 more ↓  sort PID▲'],
    [100, 30, '1 more ↓  sort PID▲'],
    [120, 40, 'sort PID▲'],
    [200, 50, 'sort PID▲'],
  ])(
    '%i×%i: processes out of view are counted in the title (issue #14 item 1)',
    (columns, rows, right) => {
      const title = screen(up, columns, rows)
        .split('\n')
        .find((l) => l.includes('Processes (4)'))!;
      expect(title).toMatch(new RegExp(`─ ${right.replace(/[▲↓]/g, '.')} ─`));
      const bottom = screen(up, columns, rows, { focus: 'processes', procRow: 3 });
      if (right.includes('more')) expect(bottom).toContain('1 more ↑  sort PID▲');
    },
  );

  test.each([
    [80, 'q quit  space pause  . step  > next failure  +/- speed  s/S sort  ? help'],
    [
      100,
      'q quit  space pause  . step  > next failure  +/- speed  s/S sort  / filter  tab panel  ? help',
    ],
    [
      120,
      'q quit  space pause  . step  > next failure  +/- speed  s/S sort  / filter  tab panel  enter details  p preset  ? help',
    ],
  ])(
    '%i columns: the footer keeps q and ? help, and as many hints as fit (issue #14 item 1)',
    (columns, footer) => {
      const lines = screen(up, columns, 40, { notice: undefined }).split('\n');
      expect(lines.at(-1)!.trimEnd()).toBe(footer);
    },
  );

  test('processes and failures side by side from 150 columns', () => {
    const wide = screen(up, 200, 50).split('\n');
    expect(wide.some((l) => l.includes('Processes (4)') && l.includes('Failures (2)'))).toBe(true);
    const narrow = screen(up, 120, 40).split('\n');
    expect(narrow.some((l) => l.includes('Processes (4)') && l.includes('Failures (2)'))).toBe(
      false,
    );
  });

  test('several CMA areas: as many as fit, the rest one key away', async () => {
    const a = up.snapshot.cma.svp!;
    const m = up.view.maps.svp!;
    const many: LiveFrame = {
      ...up,
      snapshot: { ...up.snapshot, cma: { svp: a, video: a, camera: a } },
      view: { ...up.view, maps: { svp: m, video: m, camera: m } },
    };
    const out = screen(many, 120, 40);
    expect(out).toContain('camera  256M at 0x30000000 pfn 0x30000');
    expect(out).toMatch(/\d more area\(s\): tab here, ↑↓/);
    expect(out.split('\n')).toHaveLength(39);
    const wide = screen(many, 200, 80);
    for (const name of ['camera', 'svp', 'video'])
      expect(wide).toContain(`${name}  256M at 0x30000000 pfn 0x30000`);
    expect(wide).toContain('3 areas');
  });

  test('a notice below 80×24', () => {
    expect(screen(up, 79, 30)).toContain(
      'Terminal 79×30 is smaller than 80×24: enlarge it (q quits).',
    );
    expect(screen(up, 100, 23)).toContain('is smaller than 80×24');
    expect(screen(up, 100, 23).split('\n')).toHaveLength(22);
  });

  test('help lists the keys, the glyphs and the presets', () => {
    const out = screen(up, 120, 40, { help: true });
    for (const k of [
      'space',
      'pause / resume',
      'run to the next failure',
      'next policy preset',
      'v2-longterm+io_uring',
    ]) {
      expect(out).toContain(k);
    }
    expect(out).toContain(
      '· free   ▒ cma_client   ░ movable   s pinned short   L pinned long   i isolated   : per-cpu   X blocking page',
    );
    // what the CMA panel's numbers are (issue #14 item 3)
    expect(out).toContain(
      "bitmap free ranges the area's bitmap has not handed out (debugfs maxchunk)",
    );
    expect(out).toContain(
      'movable run the longest run with no page pinned, isolated or handed out: what cma_alloc can take now',
    );
  });

  test('80×24: the help scrolls, and says how much is out of view (issue #14)', () => {
    const top = screen(up, 80, 24, { help: true });
    expect(top).toMatch(/═ \d+ more ↓ {2}j\/k scroll ═/);
    expect(top).not.toContain('v2-longterm+io_uring');
    const bottom = screen(up, 80, 24, { help: true, helpScroll: 1000 });
    expect(bottom).toMatch(/═ \d+ more ↑ {2}j\/k scroll ═/);
    expect(bottom).toContain('4. v2-longterm+io_uring');
    expect(bottom).toContain('scroll this help; any other key closes it; q quits.');
  });

  test.each([
    [120, 40],
    [200, 50],
  ])(
    'help at %i×%i explains the abbreviated process columns (issue #14 item 4)',
    (columns, rows) => {
      const out = screen(up, columns, rows, { help: true }).replace(/[│║]/g, ' ');
      for (const [title, legend] of [
        ['PIN-S', 'pinned short-term (FOLL_PIN)'],
        ['PIN-L', 'pinned long-term (FOLL_LONGTERM: moved out of CMA first)'],
        ['IN-CMA', 'pinned pages in CMA: they block cma_alloc'],
        ['VmPin', 'pinned_vm (/proc/PID/status)'],
        ['DENIED', 'pins and locks refused for RLIMIT_MEMLOCK'],
      ])
        expect(out).toContain(`${title} ${legend}`);
      expect(out).toContain('g  G'); // every key the handler knows is listed
    },
  );
});
