// Copies the built admin UI (apps/admin/dist) into static/admin, where Workers static assets
// serve it under /admin/. Without a build, static/admin is removed and /admin/ says so (404).
import { cpSync, existsSync, mkdirSync, rmSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const pkg = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const from = resolve(pkg, '../../apps/admin/dist')
const to = resolve(pkg, 'static/admin')

mkdirSync(resolve(pkg, 'static'), { recursive: true })
rmSync(to, { recursive: true, force: true })
if (existsSync(resolve(from, 'index.html'))) {
  cpSync(from, to, { recursive: true })
  console.error(`admin UI: copied ${from} -> ${to}`)
} else {
  console.error(`admin UI: ${from} is not built; /admin/ will answer 404 until it is`)
}
