// The terminal's size as a React hook: stdout's, following resizes, or a fixed one (tests).
import { useStdout } from 'ink';
import { useEffect, useState } from 'react';
import { MIN_COLUMNS, MIN_ROWS, type Size } from '../layout.js';

const readSize = (out: NodeJS.WriteStream): Size => ({
  columns: out.columns || MIN_COLUMNS,
  rows: out.rows || MIN_ROWS,
});

/** The terminal size, updated on stdout 'resize' (Ink 6 has no useWindowSize). */
export function useTerminalSize(fixed: Size | undefined): Size {
  const { stdout } = useStdout();
  const [size, setSize] = useState(() => readSize(stdout));
  useEffect(() => {
    if (fixed) return;
    const onResize = () => setSize(readSize(stdout));
    stdout.on('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
  }, [stdout, fixed]);
  return fixed ?? size;
}
