import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    testTimeout: 60_000,
    // builds dist/ once: the CLI tests (test/cli) spawn bin/cmascope.js
    globalSetup: ['test/global-setup.ts'],
  },
});
