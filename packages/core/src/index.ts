export type { GatewayDeps } from './app.ts'
export { corsHeaders, createGatewayApp } from './app.ts'
export { createKeyCheck, presentedKey } from './auth.ts'
export { bodyTimeout, readBodyText } from './body.ts'
export type { Config, Env, Timeouts } from './config.ts'
export { loadConfig, randomKey } from './config.ts'
export type { ErrorCode } from './errors.ts'
export { GatewayError, errorResponse, statusOf } from './errors.ts'
export type { ParsedCursor, TopicPosition } from './cursor.ts'
export {
  CURSOR_SEPARATOR,
  cursorPart,
  echoCursor,
  encodeCursor as encodeResumeCursor,
  isEpoch,
  newEpoch,
  parseCursor as parseResumeCursor,
  publisherIdOf,
  topicHash,
} from './cursor.ts'
export type { CursorScope, EventEncoders, GatewayEvent, Message } from './event.ts'
export {
  BROADCAST_TOPIC,
  EncodedEvent,
  EncodedMessage,
  SINGLE_TOPIC,
  formatWsFrame,
  sseIdOf,
} from './event.ts'
export type { ConnectedInfo, GapInfo, GapReason } from './gateway-events.ts'
export {
  GATEWAY_EVENTS,
  RESERVED_EVENT_PREFIX,
  connectedData,
  gapData,
  gatewaySseFrame,
  gatewayWsFrame,
  tokenExpiredData,
} from './gateway-events.ts'
export type { Grant, RefusalReason, TokenConfig, TokenSource } from './private-topics.ts'
export {
  createSubscribeGuard,
  createSubscriberAuth,
  loadTokenConfig,
  topicMatches,
} from './private-topics.ts'
export type { HeaderSource, PublishAnswer, PublishDeps, PublishRequest } from './publish.ts'
export { createPublish, publishAnswerJson } from './publish.ts'
export type { SubscriptionAsk } from './subscription.ts'
export { parseSubscription } from './subscription.ts'
export type { HubHooks, Sink, TailSink } from './hub.ts'
export { LocalHub, tailDropFrame, tailGapFrame, tailPublishFrame, tailReplayFrame } from './hub.ts'
export type { ReplayLimits } from './replay.ts'
export { ReplayStore } from './replay.ts'
export type { ReplayItem, ReplayPlan, ResumeAsk, StoredEvent, TopicHistory } from './resume.ts'
export { coveredBy, planReplay, resumeAsks } from './resume.ts'
export { createIdGenerator } from './ids.ts'
export type { ConnectionSort, KeyOrder, KeyPosition, Page } from './pagination.ts'
export {
  CONNECTION_SORTS,
  DEFAULT_LIMIT,
  MAX_LIMIT,
  comparePositions,
  decodeCursor,
  encodeCursor,
  mergeTop,
  pageOfSorted,
  parseLimit,
  parseSort,
  toPageBody,
  topAfter,
} from './pagination.ts'
export { CONNECTION_ORDERS, SORT_SCAN } from './admin.ts'
export type {
  ConnectionInfo,
  ConnectionQuery,
  SortedConnectionQuery,
  ConnectionSearch,
  GatewayBackend,
  Logger,
  NodeInfo,
  NodeStats,
  PublishObserver,
  PublishOutcome,
  Stats,
  SubscribeRequest,
  TopicInfo,
  TopicPresence,
  TopicQuery,
  Transport,
} from './ports.ts'
export { hasSearch, matchesPrefix, matchesSearch, silentLogger } from './ports.ts'
export type { GatewayAbout } from './admin.ts'
export { GATEWAY_VERSION } from './version.ts'
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
