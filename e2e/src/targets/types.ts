/** A real gateway the end-to-end suites run against: started on loopback, stopped after. */
export interface Target {
  /** Target name in reports: `node`, `node-workers`, `node-cluster`, `cf-dev`, `wrangler-dev`, `cloudflare`. */
  name: string
  /** Base URL of the entry point (in a cluster: the first node). */
  url: string
  /** Every entry point: one per node in a cluster (publish on one, subscribe on another). */
  urls: string[]
  apiKey: string
  /** The gateway's HEARTBEAT_MS: an idle stream sees a `: heartbeat` comment this often (default 1000 where absent). */
  heartbeatMs?: number
  /** TOKEN_SECRET of its private topics (`private:*` and `vip`); undefined: none configured. */
  tokenSecret?: string
  /** What this runtime does; suites skip, by name, what does not apply. */
  capabilities: {
    /** A slow consumer is disconnected past its buffer bound (Node only). */
    slowConsumer: boolean
    /** `/metrics` in Prometheus text. */
    metrics: boolean
  }
  stop(): Promise<void>
}

/** How a suite gets a target; `unavailable` says why it cannot run here (reported as not run). */
export interface TargetFactory {
  name: string
  unavailable(): Promise<string | undefined>
  start(): Promise<Target>
}
