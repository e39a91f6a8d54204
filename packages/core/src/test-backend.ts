import type { GatewayEvent, Message } from './event.ts'
import type { GatewayBackend, SubscribeRequest } from './ports.ts'

// Stand-ins for the core's unit tests (not shipped: nothing outside *.test.ts imports this).

/**
 * A backend whose only topic with a subscriber is `live` and whose only connection is `c1` (none
 * when `connected` is false); it records what it was asked to do.
 */
export function recordingBackend(connected = true) {
  const published: GatewayEvent[] = []
  const dropped: Array<{ topics: string[]; id: string }> = []
  const broadcasts: Message[] = []
  const sent: Array<{ connection: string; message: Message }> = []
  const subscribed: SubscribeRequest[] = []
  const refused: string[] = []
  const backend: GatewayBackend = {
    nodeId: 'n1',
    liveTopics: async (topics) => topics.filter((t) => t === 'live'),
    publish: async (events) => {
      published.push(...events)
      return {}
    },
    dropped: async (topics, id) => {
      dropped.push({ topics, id })
    },
    anyConnection: () => connected,
    broadcast: async (message) => {
      broadcasts.push(message)
      return { subscribers: 1 }
    },
    sendTo: async (connection, message) => {
      if (connection !== 'c1' || !connected) return false
      sent.push({ connection, message })
      return true
    },
    presence: async (topic) =>
      topic === 'live'
        ? {
            topic,
            subscribers: 1,
            nodes: [{ node: 'n1', subscribers: 1 }],
            since: '2026-01-01T00:00:00.000Z',
          }
        : null,
    refused: (reason) => {
      refused.push(reason)
    },
    subscribe: async (_c, req) => {
      subscribed.push(req)
      return new Response('stream')
    },
    tail: async () => new Response('tail'),
    listTopics: async () => ({ items: [], more: false }),
    listConnections: async () => ({ items: [], more: false }),
    disconnect: async (id) => id === 'c1',
    stats: async () => ({
      connections: 0,
      connectionsTotal: 0,
      topics: 0,
      published: 0,
      delivered: 0,
      dropped: 0,
      bytesSent: 0,
      slowConsumerDisconnects: 0,
      replayed: 0,
      gaps: 0,
      broadcasts: 0,
      directSends: 0,
      subscriptionsRefused: 0,
      asOf: '2026-01-01T00:00:00.000Z',
      nodes: [],
    }),
    nodes: async () => [],
    ready: async () => ({ ready: true }),
  }
  return { backend, published, dropped, broadcasts, sent, subscribed, refused }
}

/** A body that fails the test if anything reads it. */
export function untouchableBody(): ReadableStream<Uint8Array> {
  return new ReadableStream({
    pull() {
      throw new Error('the drop path read the body')
    },
  })
}
