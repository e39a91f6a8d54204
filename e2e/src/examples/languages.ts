import { spawnSync } from 'node:child_process'
import { existsSync, statSync } from 'node:fs'
import { resolve } from 'node:path'
import { ROOT } from '../targets/util.ts'

/** How to start one example program: command, arguments, working directory. */
export interface Command {
  cmd: string
  args: string[]
  cwd: string
}

/** One language's example programs, as the matrix runs them (the documented programs, prebuilt). */
export interface Language {
  name: 'typescript' | 'python' | 'go' | 'rust'
  subscriber: Command
  publisher: Command
  /** Prints a subscriber token for private topics (TOKEN_SECRET, TOPICS, TTL_SECONDS, SUBJECT). */
  mintToken: Command
  /** The language's own unit tests of its event-stream parser. */
  unitTests: Command
  /** Brings the build up to date (quick when it is); undefined when nothing needs building. */
  build?: Command
  /** Why the programs cannot run here (toolchain missing, not built); undefined when they can. */
  unavailable(): string | undefined
}

const dir = (name: string) => resolve(ROOT, 'examples', name)

/** True when the toolchain is on PATH (`go version`, `cargo --version`, …). */
export function has(cmd: string): boolean {
  const probe = cmd === 'go' ? ['version'] : ['--version']
  return spawnSync(cmd, probe, { stdio: 'ignore' }).status === 0
}

const built = (path: string, setup: string) =>
  existsSync(path) && statSync(path).isFile() ? undefined : `${path} not built (${setup})`

const PYTHON = resolve(dir('python'), '.venv/bin/python')
const RUST_SETUP = 'run make setup, or bash scripts/setup.d/43-rust.sh'

export const LANGUAGES: Language[] = [
  {
    name: 'typescript',
    // `npx tsx src/subscriber.ts` in the README; `node --import tsx` is the same loader in one
    // process, so the PID we stop is the program's own.
    subscriber: {
      cmd: process.execPath,
      args: ['--import', 'tsx', 'src/subscriber.ts'],
      cwd: dir('typescript'),
    },
    publisher: {
      cmd: process.execPath,
      args: ['--import', 'tsx', 'src/publisher.ts'],
      cwd: dir('typescript'),
    },
    mintToken: {
      cmd: process.execPath,
      args: ['--import', 'tsx', 'src/mint-token.ts'],
      cwd: dir('typescript'),
    },
    // No parser of its own left to test (the `eventsource` package reads the stream): its
    // `npm test` type-checks the programs against the library's types.
    unitTests: {
      cmd: process.execPath,
      args: [resolve(ROOT, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', 'tsconfig.json'],
      cwd: dir('typescript'),
    },
    unavailable: () =>
      ['tsx', 'eventsource', 'jose'].every((p) =>
        existsSync(resolve(ROOT, `node_modules/${p}/package.json`)),
      )
        ? undefined
        : `tsx, eventsource or jose not installed (run npm ci)`,
  },
  {
    name: 'python',
    // The virtual environment scripts/setup.d/41-python.sh makes, with the pinned requirements.
    subscriber: { cmd: PYTHON, args: ['subscriber.py'], cwd: dir('python') },
    publisher: { cmd: PYTHON, args: ['publisher.py'], cwd: dir('python') },
    mintToken: { cmd: PYTHON, args: ['mint_token.py'], cwd: dir('python') },
    unitTests: { cmd: PYTHON, args: ['-m', 'unittest', '-v'], cwd: dir('python') },
    unavailable: () =>
      has('python3')
        ? built(PYTHON, 'run make setup, or bash scripts/setup.d/41-python.sh')
        : 'python3 not found on PATH',
  },
  {
    name: 'go',
    subscriber: { cmd: resolve(dir('go'), 'bin/subscriber'), args: [], cwd: dir('go') },
    publisher: { cmd: resolve(dir('go'), 'bin/publisher'), args: [], cwd: dir('go') },
    mintToken: { cmd: resolve(dir('go'), 'bin/mint-token'), args: [], cwd: dir('go') },
    unitTests: { cmd: 'go', args: ['test', './...'], cwd: dir('go') },
    build: {
      cmd: 'go',
      args: ['build', '-buildvcs=false', '-o', 'bin/', './cmd/...'],
      cwd: dir('go'),
    },
    unavailable: () =>
      has('go')
        ? built(
            resolve(dir('go'), 'bin/subscriber'),
            'run make setup, or bash scripts/setup.d/42-go.sh',
          )
        : 'go not found on PATH',
  },
  {
    name: 'rust',
    subscriber: {
      cmd: resolve(dir('rust'), 'target/release/subscriber'),
      args: [],
      cwd: dir('rust'),
    },
    publisher: {
      cmd: resolve(dir('rust'), 'target/release/publisher'),
      args: [],
      cwd: dir('rust'),
    },
    mintToken: {
      cmd: resolve(dir('rust'), 'target/release/mint-token'),
      args: [],
      cwd: dir('rust'),
    },
    // No parser of its own left to test (reqwest-eventsource reads the stream): `cargo test`
    // builds the programs' test targets, which type-checks them, and runs none.
    unitTests: {
      cmd: 'cargo',
      args: ['test', '--release', '--locked', '--offline'],
      cwd: dir('rust'),
    },
    build: {
      cmd: 'cargo',
      args: ['build', '--release', '--locked', '--offline'],
      cwd: dir('rust'),
    },
    unavailable: () =>
      has('cargo')
        ? built(resolve(dir('rust'), 'target/release/subscriber'), RUST_SETUP)
        : 'cargo not found on PATH',
  },
]

/** Whether a language's programs can run: `notRun` (toolchain missing: reported by name) or a build error (a failure). */
export interface Readiness {
  notRun?: string
  buildError?: string
}

/**
 * Brings the Go and Rust builds up to date before the matrix runs them (a no-op in well under a
 * second when nothing changed), so a test never runs a binary older than its source. A build that
 * fails where a binary already existed is a failure of the example, not a missing toolchain.
 */
export function prepareLanguages(): Map<Language['name'], Readiness> {
  const out = new Map<Language['name'], Readiness>()
  for (const lang of LANGUAGES) {
    const before = lang.unavailable()
    if (lang.build && has(lang.build.cmd)) {
      const { cmd, args, cwd } = lang.build
      const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 300_000 })
      if (r.status !== 0) {
        const why = `${cmd} ${args.join(' ')} failed: ${(r.stderr || r.error?.message || '').trim().slice(-600)}`
        out.set(lang.name, before ? { notRun: `${before}; ${why}` } : { buildError: why })
        continue
      }
    }
    const notRun = lang.unavailable()
    out.set(lang.name, notRun ? { notRun } : {})
  }
  return out
}
