import { cloudflareTest } from '@cloudflare/vitest-pool-workers'
import { defineProject } from 'vitest/config'

// Unit tests of the Durable Object classes and the Worker, inside workerd (Miniflare), with the
// bindings of wrangler.jsonc. `npx vitest run --project cloudflare`.
export default defineProject({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: './wrangler.jsonc' },
      miniflare: {
        bindings: {
          API_KEYS: 'test-key',
          HEARTBEAT_MS: '1000',
          LOG_LEVEL: 'warn',
          // Only topics under `private:` need a token (test/reach.test.ts); the rest stay public.
          PRIVATE_TOPICS: 'private:*',
          TOKEN_SECRET: 'unit-test-subscriber-token-secret-0123456789',
        },
      },
    }),
  ],
  test: {
    name: 'cloudflare',
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
})
