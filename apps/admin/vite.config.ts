import { fileURLToPath } from 'node:url'
import tailwindcss from '@tailwindcss/vite'
import react from '@vitejs/plugin-react'
import { defineConfig } from 'vite'

/**
 * The gateway serves the build at /admin/ and answers the API at /admin/api/, so the app uses
 * relative URLs under that base. `npm run dev -w @sse-gateway/admin` proxies the API to a
 * running gateway (GATEWAY_URL, default http://127.0.0.1:8787) for hot reloading.
 */
export default defineConfig({
  base: '/admin/',
  plugins: [react(), tailwindcss()],
  resolve: { alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) } },
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 600 },
  server: {
    host: '127.0.0.1',
    proxy: { '/admin/api': process.env.GATEWAY_URL ?? 'http://127.0.0.1:8787' },
  },
})
