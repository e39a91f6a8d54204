import type { NodeStats } from '@sse-gateway/core'
import { describe, expect, it } from 'vitest'
import { clusterStats } from './node-registry.ts'

function node(id: string, connections: number, asOf: string): NodeStats {
  return {
    node: id,
    connections,
    connectionsTotal: connections,
    topics: 1,
    published: 0,
    delivered: 0,
    dropped: 0,
    bytesSent: 0,
    slowConsumerDisconnects: 0,
    replayed: 0,
    gaps: 0,
    broadcasts: connections,
    directSends: 0,
    subscriptionsRefused: 1,
    asOf,
  }
}

describe('cluster stats', () => {
  it('say how old each node’s figures are, and date the totals by the oldest of them', () => {
    const stats = clusterStats(
      [
        node('a', 2, '2026-05-01T10:00:05.000Z'), // the node answering: read now
        node('b', 3, '2026-05-01T10:00:01.000Z'), // a peer: its last heartbeat snapshot
        node('c', 1, '2026-05-01T10:00:03.000Z'),
      ],
      4,
    )
    expect(stats.connections).toBe(6)
    // Reach (#16): broadcasts, direct sends and refusals are summed over the nodes too.
    expect([stats.broadcasts, stats.directSends, stats.subscriptionsRefused]).toEqual([6, 0, 3])
    expect(stats.asOf).toBe('2026-05-01T10:00:01.000Z')
    expect(stats.nodes.map((n) => n.asOf)).toEqual([
      '2026-05-01T10:00:05.000Z',
      '2026-05-01T10:00:01.000Z',
      '2026-05-01T10:00:03.000Z',
    ])
  })
})
