import { defineProject } from 'vitest/config'

// `npx vitest run --project admin`: the browser tests that drive Debian's Chromium against a
// real gateway (packages/node/dist/main.js serving apps/admin/dist).
export default defineProject({
  test: {
    name: 'admin',
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    fileParallelism: false,
  },
})
