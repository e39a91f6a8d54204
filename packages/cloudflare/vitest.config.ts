import { cloudflareTest } from '@cloudflare/vitest-pool-workers'
import { defineProject } from 'vitest/config'

// Unit tests of the Durable Object classes and the Worker, inside workerd (Miniflare), with the
// bindings of wrangler.jsonc. `npx vitest run --project cloudflare`.
export default defineProject({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: './wrangler.jsonc' },
      miniflare: { bindings: { API_KEYS: 'test-key', HEARTBEAT_MS: '1000', LOG_LEVEL: 'warn' } },
    }),
  ],
  test: {
    name: 'cloudflare',
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
})
