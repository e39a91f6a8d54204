/** Shapes shared by the coordinator, the load workers and the reports. */

/** How a target is spoken to: the gateway's HTTP API, or Nchan's publisher/subscriber locations. */
export type ApiKind = 'gateway' | 'nchan'

export interface Endpoint {
  host: string
  port: number
}

/** What a load worker needs to talk to a target (plain data: it crosses the IPC channel). */
export interface TargetApi {
  kind: ApiKind
  apiKey: string
}

/** A contiguous range of topic names `${prefix}-${i}`, i in [from, to). */
export interface TopicRange {
  prefix: string
  from: number
  to: number
}

export function topicName(prefix: string, i: number): string {
  return `${prefix}-${i}`
}

/** One measured case of one scenario against one target. */
export interface CaseResult {
  scenario: string
  /** Human label of the case, e.g. "1,000 subscribers". */
  case: string
  target: string
  /** The figures, by name (see METRICS in report/metrics.ts for units and which is better). */
  metrics: Record<string, number | null>
  /** CPU used while measuring, in % of one core (100 = one core busy). */
  cpu: { server: number; loadgen: number }
  /** Anything a reader should know: errors, disconnects, incomplete bursts. */
  notes: string[]
}

/** What one run writes per scenario: benchmark-results/<runId>-<scenario>.json */
export interface ScenarioFile {
  runId: string
  mode: string
  scenario: string
  startedAt: string
  machine: MachineInfo
  targets: TargetDescription[]
  results: CaseResult[]
}

export interface TargetDescription {
  name: string
  label: string
  /** How it was started (config that matters for the figures). */
  detail: string
}

export interface MachineInfo {
  cpus: number
  cpuModel: string
  memGiB: number
  node: string
  os: string
  /** 1-minute load average when the run started, and when each target was done. */
  loadAvgStart: number
  loadAvgEnd?: number
  loadAvgAfter?: Record<string, number>
}
