import { defineProject } from 'vitest/config'

export default defineProject({
  test: {
    name: 'e2e',
    include: ['src/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Each file starts real gateways; running files one by one keeps 2 cores from thrashing.
    fileParallelism: false,
  },
})
