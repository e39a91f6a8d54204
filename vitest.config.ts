import { defineConfig } from 'vitest/config'

// One project per package; `npx vitest run --project node` runs one of them.
export default defineConfig({
  test: {
    projects: [
      'packages/*/vitest.config.ts',
      'apps/*/vitest.config.ts',
      'e2e/vitest.config.ts',
      'bench/vitest.config.ts',
    ],
  },
})
