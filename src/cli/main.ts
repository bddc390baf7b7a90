// cmascope command line. Until the workload runner and the TUI exist, the default command runs
// the platform-P story of spec §7 (C1 then C5) and prints what a kernel engineer would read.
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { summary } from './summary.js';

await yargs(hideBin(process.argv))
  .scriptName('cmascope')
  .command(
    '$0',
    'run the default scenario headless and print /proc and /sys views and the trace',
    (y) => y.option('kernel', { choices: ['6.4', '6.18'] as const, default: '6.18' as const }),
    (argv) => {
      process.stdout.write(summary(argv.kernel));
    },
  )
  .strict()
  .fail((msg, err) => {
    process.stderr.write(`cmascope: ${msg ?? err?.message}\n`);
    process.exit(2);
  })
  .parseAsync();
