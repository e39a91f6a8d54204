import { ServerIcon } from 'lucide-react'
import { useId } from 'react'
import { ErrorState } from '@/components/states'
import { Badge } from '@/components/ui/badge'
import {
  Table,
  TableBody,
  TableCell,
  TableHead,
  TableHeader,
  TableRow,
} from '@/components/ui/table'
import { useAuth } from '@/lib/auth'
import { count, dateTime, rate, uptime } from '@/lib/format'
import { rateOf, useLive } from '@/lib/live'
import type { NodeInfo, NodeStats } from '@/lib/types'
import { useLoad } from '@/lib/use-load'

/** Seconds since a node's figures were read: for a peer, the age of its last heartbeat. */
function leaseAge(stats: NodeStats | undefined, now: number): string {
  if (!stats?.asOf) return '–'
  const s = Math.max(0, Math.round((now - new Date(stats.asOf).getTime()) / 1000))
  return `${s} s`
}

/**
 * Every live node (GET /admin/api/nodes) with its figures from the stats: uptime, connections,
 * topics, event rates between the last two readings, and how old its last heartbeat is (its
 * lease: a node whose lease runs out leaves the list). One row on a single node.
 */
export function NodesPanel() {
  const { request } = useAuth()
  const live = useLive()
  const titleId = useId()
  const load = useLoad(
    (signal) => request<{ items: NodeInfo[] }>('/nodes', { signal }),
    [request, live.tick],
  )
  const nodes = load.data?.items ?? []
  const a = live.samples.at(-2)
  const b = live.samples.at(-1)
  const statsOf = (id: string) => b?.stats.nodes.find((n) => n.node === id)
  const nodeRate = (id: string, pick: (s: NodeStats) => number) => {
    const x = a?.stats.nodes.find((n) => n.node === id)
    const y = statsOf(id)
    if (!a || !b || !x || !y) return undefined
    return rateOf(
      { at: a.at, stats: { ...x, nodes: [] } },
      { at: b.at, stats: { ...y, nodes: [] } },
      pick,
    )
  }
  const now = b?.at ?? Date.now()

  return (
    <section aria-labelledby={titleId} className="flex flex-col gap-2">
      <h2 id={titleId} className="flex items-center gap-2 text-sm font-semibold">
        <ServerIcon className="size-4" /> Nodes
        <Badge variant="secondary" data-testid="node-count">
          {nodes.length}
        </Badge>
      </h2>
      {load.error && !load.data && <ErrorState error={load.error} onRetry={load.reload} />}
      {nodes.length > 0 && (
        <div className="overflow-x-auto rounded-lg border bg-card">
          <Table>
            <TableHeader>
              <TableRow className="hover:bg-transparent">
                <TableHead>Node</TableHead>
                <TableHead className="hidden md:table-cell">Address</TableHead>
                <TableHead>Uptime</TableHead>
                <TableHead className="text-right">Connections</TableHead>
                <TableHead className="text-right">Topics</TableHead>
                <TableHead className="hidden text-right sm:table-cell">Published</TableHead>
                <TableHead className="hidden text-right sm:table-cell">Delivered</TableHead>
                <TableHead className="hidden text-right lg:table-cell">Dropped</TableHead>
                <TableHead
                  className="hidden text-right sm:table-cell"
                  title="Age of the node's last heartbeat (its lease)"
                >
                  Lease age
                </TableHead>
              </TableRow>
            </TableHeader>
            <TableBody>
              {nodes.map((n) => {
                const s = statsOf(n.id)
                return (
                  <TableRow key={n.id} data-testid="node-row" data-node={n.id}>
                    <TableCell className="font-mono text-xs">{n.id}</TableCell>
                    <TableCell className="hidden font-mono text-xs md:table-cell">
                      {n.url ?? '–'}
                    </TableCell>
                    <TableCell className="text-xs whitespace-nowrap" title={dateTime(n.startedAt)}>
                      {uptime(n.startedAt, now)}
                    </TableCell>
                    <TableCell className="text-right tabular-nums" data-testid="node-connections">
                      {count(s?.connections ?? n.connections)}
                    </TableCell>
                    <TableCell className="text-right tabular-nums">
                      {count(s?.topics ?? n.topics)}
                    </TableCell>
                    <TableCell className="hidden text-right tabular-nums sm:table-cell">
                      {rate(nodeRate(n.id, (x) => x.published))}
                    </TableCell>
                    <TableCell className="hidden text-right tabular-nums sm:table-cell">
                      {rate(nodeRate(n.id, (x) => x.delivered))}
                    </TableCell>
                    <TableCell className="hidden text-right tabular-nums lg:table-cell">
                      {rate(nodeRate(n.id, (x) => x.dropped))}
                    </TableCell>
                    <TableCell className="hidden text-right tabular-nums sm:table-cell">
                      {leaseAge(s, now)}
                    </TableCell>
                  </TableRow>
                )
              })}
            </TableBody>
          </Table>
        </div>
      )}
    </section>
  )
}
