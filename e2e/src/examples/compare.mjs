#!/usr/bin/env node
// Shows what changed between two runs of the examples matrix.
//   node e2e/src/examples/compare.mjs                      the newest run against the one before
//   node e2e/src/examples/compare.mjs OLD.json [NEW.json]  any two reports, e.g. a filtered run:
//     node e2e/src/examples/compare.mjs test-results/examples-matrix.json test-results/raw/examples-matrix.partial.json
//   git show HEAD:test-results/examples-matrix.json > /tmp/old.json && node e2e/src/examples/compare.mjs /tmp/old.json
import { existsSync, readFileSync } from 'node:fs'
import { compareReports } from './report.mjs'

const [
  oldPath = 'test-results/raw/examples-matrix.previous.json',
  newPath = 'test-results/examples-matrix.json',
] = process.argv.slice(2)
for (const p of [oldPath, newPath]) {
  if (!existsSync(p)) {
    console.error(
      `${p} not found: run the matrix (npx vitest run --project e2e e2e/src/examples) first`,
    )
    process.exit(2)
  }
}
const prev = JSON.parse(readFileSync(oldPath, 'utf8'))
const cur = JSON.parse(readFileSync(newPath, 'utf8'))
const t = (r) => `${r.totals.passed} passed, ${r.totals.failed} failed, ${r.totals.notRun} not run`
console.log(`before: ${prev.date}  ${t(prev)}`)
console.log(`now:    ${cur.date}  ${t(cur)}`)
const changes = compareReports(prev, cur)
console.log(changes.length ? changes.map((c) => `  ${c}`).join('\n') : '  no changes')
