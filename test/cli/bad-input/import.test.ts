// Bad captures for `cmascope import` (issue #17): one line naming file:line, exit 2, and -o
// left as it was.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../cli.js';
import { catalogue } from './catalogue.js';

const GOOD = readFileSync(join(ROOT, 'test/fixtures/captures/arm64-6.4-cma.txt'), 'utf8');
const KEEP = 'keep\n';

catalogue('import refuses a malformed capture', [
  {
    name: 'a file that is not a capture bundle',
    files: { 'dev.txt': 'MemTotal: 1 kB\n', 'device.ts': KEEP },
    args: ['import', 'dev.txt', '-o', 'device.ts'],
    exit: 2,
    stderr:
      /^cmascope: dev\.txt:1: not a capture bundle: the first line must be '# cmascope capture v1'/,
  },
  {
    name: 'a buddyinfo line with a count that is not a number',
    files: { 'dev.txt': GOOD.replace(/^(Node 0, zone {6}DMA +)170/m, '$1x70'), 'device.ts': KEEP },
    args: ['import', 'dev.txt', '-o', 'device.ts'],
    exit: 2,
    stderr:
      /^cmascope: dev\.txt:\d+: \/proc\/buddyinfo: expected the order-0 count as a number, got 'x70'$/,
  },
  {
    name: 'a capture without buddyinfo',
    files: {
      'dev.txt': GOOD.replace('==> /proc/buddyinfo <==', '==> /proc/buddyinfo.old <=='),
      'device.ts': KEEP,
    },
    args: ['import', '--check', 'dev.txt'],
    exit: 2,
    stderr: 'cmascope: dev.txt: no /proc/buddyinfo in the capture: the free blocks per order',
  },
  {
    name: 'a buddyinfo the device did not let the capture read',
    files: {
      'dev.txt': GOOD.replace(
        /==> \/proc\/buddyinfo <==\n.*\n/,
        '==> /proc/buddyinfo <== (missing)\n',
      ),
    },
    args: ['import', 'dev.txt'],
    exit: 2,
    stderr:
      /^cmascope: dev\.txt:\d+: \/proc\/buddyinfo is missing on the device: the free blocks per order$/,
  },
  {
    name: 'free blocks that cannot fit in their pageblocks',
    files: {
      'dev.txt': GOOD.replace(
        /type +CMA +0 +0 +0 +4 +0 +0 +0 +0 +0 +1 +25/,
        'type          CMA      0      0      0      4      0      0      0      0      0      1     40',
      ),
    },
    args: ['import', '--check', 'dev.txt'],
    exit: 2,
    stderr:
      'cmascope: machine.layout.free.CMA: 10 of the 40 free order-10 blocks do not fit in the 64 CMA pageblocks',
  },
  {
    name: '-o naming the capture itself',
    files: { 'dev.txt': GOOD },
    args: ['import', 'dev.txt', '-o', './dev.txt'],
    exit: 2,
    stderr: 'cmascope: -o ./dev.txt is the capture itself: choose another output file',
  },
  {
    name: 'a capture that does not exist',
    args: ['import', 'nothing.txt'],
    exit: 2,
    stderr: 'cmascope: cannot read nothing.txt: ENOENT: no such file or directory',
  },
]);
