export type { GatewayDeps } from './app.ts'
export { corsHeaders, createGatewayApp } from './app.ts'
export { createKeyCheck, presentedKey } from './auth.ts'
export { readBodyText } from './body.ts'
export type { Config, Env } from './config.ts'
export { loadConfig, randomKey } from './config.ts'
export type { ErrorCode } from './errors.ts'
export { GatewayError, errorResponse, statusOf } from './errors.ts'
export type { GatewayEvent } from './event.ts'
export { EncodedEvent, formatWsFrame } from './event.ts'
export type { HubHooks, Sink, TailSink } from './hub.ts'
export { LocalHub, tailDropFrame, tailPublishFrame } from './hub.ts'
export { createIdGenerator } from './ids.ts'
export type { Page } from './pagination.ts'
export {
  DEFAULT_LIMIT,
  MAX_LIMIT,
  decodeCursor,
  encodeCursor,
  pageOfSorted,
  parseLimit,
  toPageBody,
} from './pagination.ts'
export type {
  ConnectionInfo,
  GatewayBackend,
  Logger,
  NodeInfo,
  NodeStats,
  PublishObserver,
  PublishOutcome,
  Stats,
  SubscribeRequest,
  TopicInfo,
  TopicQuery,
  Transport,
} from './ports.ts'
export { matchesPrefix, silentLogger } from './ports.ts'
export type { SseEvent } from './sse.ts'
export { SSE_HEADERS, formatComment, formatEvent } from './sse.ts'
export {
  NAME_RE,
  parseTopics,
  quote,
  validateEventType,
  validateId,
  validateTopic,
} from './topics.ts'
