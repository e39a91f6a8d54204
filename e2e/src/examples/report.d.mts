// Types of report.mjs (plain JavaScript so that compare.mjs runs under node without a build).

export type ResultKind = 'delivery' | 'errors' | 'reconnect' | 'private'
export type ResultStatus = 'passed' | 'failed' | 'not-run'

/** One cell of the matrix, or one per-language check, on one target. */
export interface MatrixResult {
  target: string
  kind: ResultKind
  /** The publisher's language (delivery, errors); null for a subscriber-only check. */
  publisher: string | null
  /** The subscriber's language (delivery, reconnect, private); null for a publisher-only check. */
  subscriber: string | null
  status: ResultStatus
  ms: number
  /** Failure message, or why it was not run. */
  detail?: string
}

export interface MatrixReport {
  date: string
  languages: string[]
  targets: Array<{ name: string; notRun?: string }>
  totals: { passed: number; failed: number; notRun: number }
  results: MatrixResult[]
  changes: string[]
  /** A filtered run (test filter or E2E_TARGETS): written under raw/, not as the main report. */
  partial?: boolean
}

export function resultKey(r: MatrixResult): string
export function compareReports(
  prev: MatrixReport | undefined,
  cur: Omit<MatrixReport, 'changes'>,
): string[]
export function renderMarkdown(report: MatrixReport): string
export function writeMatrixReport(
  dir: string,
  input: Pick<MatrixReport, 'languages' | 'targets' | 'results'>,
  options?: { partial?: boolean },
): MatrixReport
