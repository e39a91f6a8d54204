import type { Config } from './config.ts'
import { BROADCAST_TOPIC, type GatewayEvent } from './event.ts'
import type { GatewayBackend, Logger, PublishObserver } from './ports.ts'
import { parseTopics, validateEventType, validateId } from './topics.ts'

/** Request headers by lower-case name: a Web `Headers`, or an adapter over a native request. */
export interface HeaderSource {
  get(name: string): string | null
}

/** What `POST /publish` needs from the request it answers. */
export interface PublishRequest {
  headers: HeaderSource
  /** Reads the body as UTF-8 text, 413 past `max` bytes. Called at most once, only when some topic is live. */
  readBody(max: number): Promise<string>
}

/** The 202 answer: which topics were delivered and which dropped. */
export interface PublishAnswer {
  id: string
  delivered: string[]
  dropped: string[]
  /** A broadcast: the connections it was written to, where the runtime knows it at once. */
  connections?: number
}

/**
 * The answer's JSON, as `JSON.stringify(answer)` writes it, without its general serializer:
 * every string in it is a checked topic or id (no character JSON escapes), so it is framed by
 * concatenation (a quarter of a µs less per publish).
 */
export function publishAnswerJson(a: PublishAnswer): string {
  let out = `{"id":"${a.id}","delivered":${names(a.delivered)},"dropped":${names(a.dropped)}`
  if (a.connections !== undefined) out += `,"connections":${a.connections}`
  return `${out}}`
}

function names(list: string[]): string {
  return list.length === 0 ? '[]' : `["${list.join('","')}"]`
}

export interface PublishDeps {
  backend: Pick<
    GatewayBackend,
    'liveTopics' | 'publish' | 'dropped' | 'anyConnection' | 'broadcast'
  >
  config: Pick<Config, 'maxTopicsPerConnection' | 'maxBodyBytes'>
  checkKey: (headers: HeaderSource) => void
  log: Logger
  observer?: PublishObserver | undefined
}

/**
 * The publish decision, written once for every runtime: key → topics → id and type → "anyone
 * listening?" → drop from the headers alone (the body is never read, whatever its size) or read
 * the body once and deliver. Throws GatewayError for the contract's 4xx answers. A runtime runs
 * it behind Hono (`POST /publish` of the core app) or straight from its native request (Node).
 */
export function createPublish(
  deps: PublishDeps,
): (req: PublishRequest) => PublishAnswer | Promise<PublishAnswer> {
  const { backend, config, checkKey, log, observer } = deps
  /**
   * Not `async`: a drop decided from a backend that knows its live topics at once (memory) is
   * answered without a promise or a microtask; the caller awaits, or checks for a promise. The
   * contract's 4xx may therefore be thrown, not only rejected: a refusal of a header (key, topic,
   * id, event type) is always thrown, before anything is looked up, logged or counted; a
   * rejection comes from the body or the backend.
   */
  return function publish(req: PublishRequest): PublishAnswer | Promise<PublishAnswer> {
    const h = req.headers
    checkKey(h)
    const rawTopics = h.get('x-sse-topic')
    if (rawTopics !== null && rawTopics.trim() === BROADCAST_TOPIC) {
      // Checked here, not in `broadcast`: every refusal of a header is thrown at once, before
      // anything is looked up or logged (a runtime may take the decision again, see Node's
      // native-routes.ts).
      const id = validateId(h.get('x-sse-id'))
      return broadcast(req, id, validateEventType(h.get('x-sse-event')))
    }
    const topics = parseTopics(rawTopics, config.maxTopicsPerConnection)
    const id = validateId(h.get('x-sse-id'))
    const event = validateEventType(h.get('x-sse-event'))
    const found = backend.liveTopics(topics)
    if (Array.isArray(found)) return decide(req, topics, id, event, found, undefined)
    const started = performance.now()
    return found.then((live) => decide(req, topics, id, event, live, started))
  }

  /** Given the live topics: the drop at once (no promise), or the body read and delivered. */
  function decide(
    req: PublishRequest,
    topics: string[],
    id: string,
    event: string | undefined,
    live: string[],
    /** When the live-topic look-up began, where it was asynchronous; otherwise now. */
    started: number | undefined,
  ): PublishAnswer | Promise<PublishAnswer> {
    if (live.length === 0) {
      // The drop path: answer from the headers alone; the body is never read.
      log.info({ topics, id }, 'dropped: no subscriber')
      void backend.dropped(topics, id)
      observer?.published?.({ topics: topics.length, live: 0, seconds: 0, bytes: 0 })
      return { id, delivered: [], dropped: topics }
    }
    return deliver(req, topics, id, event, live, started ?? performance.now())
  }

  async function deliver(
    req: PublishRequest,
    topics: string[],
    id: string,
    event: string | undefined,
    live: string[],
    started: number,
  ): Promise<PublishAnswer> {
    // Only now does the size matter: a dropped message is dropped whatever its size.
    const data = await req.readBody(config.maxBodyBytes)
    const events: GatewayEvent[] = live.map((topic) => ({ topic, id, event, data }))
    await backend.publish(events)
    const dropped = live.length === topics.length ? [] : topics.filter((t) => !live.includes(t))
    if (dropped.length > 0) {
      log.info({ topics: dropped, id }, 'dropped: no subscriber')
      void backend.dropped(dropped, id)
    }
    observer?.published?.({
      topics: topics.length,
      live: live.length,
      seconds: (performance.now() - started) / 1000,
      bytes: data.length,
    })
    return { id, delivered: live, dropped }
  }

  /** `x-sse-topic: *`: every live connection once; nobody connected is a drop, body unread. */
  async function broadcast(
    req: PublishRequest,
    id: string,
    event: string | undefined,
  ): Promise<PublishAnswer> {
    const started = performance.now()
    const found = backend.anyConnection()
    const any = typeof found === 'boolean' ? found : await found
    if (!any) {
      log.info({ topics: [BROADCAST_TOPIC], id }, 'dropped: no connection')
      void backend.dropped([BROADCAST_TOPIC], id)
      observer?.published?.({ topics: 1, live: 0, seconds: 0, bytes: 0 })
      return { id, delivered: [], dropped: [BROADCAST_TOPIC] }
    }
    const data = await req.readBody(config.maxBodyBytes)
    const outcome = await backend.broadcast({ topic: BROADCAST_TOPIC, id, event, data })
    observer?.published?.({
      topics: 1,
      live: 1,
      seconds: (performance.now() - started) / 1000,
      bytes: data.length,
    })
    const answer: PublishAnswer = { id, delivered: [BROADCAST_TOPIC], dropped: [] }
    if (outcome.subscribers !== undefined) answer.connections = outcome.subscribers
    return answer
  }
}
