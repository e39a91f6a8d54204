import { ActivityIcon, HashIcon, SearchIcon, UsersIcon } from 'lucide-react'
import { type MouseEvent, useEffect, useState } from 'react'
import { NodesPanel } from '@/components/nodes-panel'
import { PresenceButton } from '@/components/presence'
import { RateChart } from '@/components/rate-chart'
import { EmptyState, ErrorState, LoadingRows, RefreshButton } from '@/components/states'
import { StatsStrip } from '@/components/stats-strip'
import { TopicName } from '@/components/topic-name'
import { Badge } from '@/components/ui/badge'
import { Button } from '@/components/ui/button'
import { Input } from '@/components/ui/input'
import {
  Table,
  TableBody,
  TableCell,
  TableHead,
  TableHeader,
  TableRow,
} from '@/components/ui/table'
import { useAuth } from '@/lib/auth'
import { clock, count } from '@/lib/format'
import { useLive } from '@/lib/live'
import { hrefOf, navigate, type Route } from '@/lib/route'
import { type PageBody, TOPIC_PATTERN, type TopicInfo } from '@/lib/types'
import { useLoad } from '@/lib/use-load'

const PAGE = 500 // the API's largest page: one request covers most deployments

/** Follows a link inside the app without a page load (ctrl/cmd-click still opens a tab). */
function go(e: MouseEvent, r: Route) {
  if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return
  e.preventDefault()
  navigate(r)
}

/** The value of `value` once it has not changed for `ms`: a search as you type, not per key. */
function useSettled<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value)
  useEffect(() => {
    const t = setTimeout(() => setSettled(value), ms)
    return () => clearTimeout(t)
  }, [value, ms])
  return settled
}

/**
 * The deployment at a glance (live counters, rates, nodes) and every live topic with its
 * subscribers and nodes, searched by prefix on the server as you type; the way into
 * Connections and Tail.
 */
export function TopicsView() {
  const { request } = useAuth()
  const live = useLive()
  const [filter, setFilter] = useState('')
  const prefix = useSettled(filter.trim(), 200)
  const badPrefix = prefix !== '' && !TOPIC_PATTERN.test(prefix)
  const [extra, setExtra] = useState<{ items: TopicInfo[]; cursor: string | null } | null>(null)
  const [moreError, setMoreError] = useState<Error | null>(null)
  const [loadingMore, setLoadingMore] = useState(false)

  const load = useLoad(
    async (signal) => {
      if (badPrefix) return { page: { items: [], nextCursor: null } as PageBody<TopicInfo> }
      const q = new URLSearchParams({ limit: String(PAGE) })
      if (prefix) q.set('prefix', prefix)
      return { page: await request<PageBody<TopicInfo>>(`/topics?${q}`, { signal }) }
    },
    [request, prefix, live.tick],
  )
  // A new search starts again from the first page; a live refresh keeps what was loaded.
  // biome-ignore lint/correctness/useExhaustiveDependencies: reset on a new prefix only
  useEffect(() => setExtra(null), [prefix])

  const items = [...(load.data?.page.items ?? []), ...(extra?.items ?? [])]
  const cursor = extra ? extra.cursor : (load.data?.page.nextCursor ?? null)
  const shown = items
  const clustered = items.some((t) => t.nodes.length > 1) || (live.latest?.nodes.length ?? 0) > 1

  async function loadMore() {
    if (!cursor) return
    setLoadingMore(true)
    setMoreError(null)
    try {
      const q = new URLSearchParams({ limit: String(PAGE), cursor })
      if (prefix) q.set('prefix', prefix)
      const page = await request<PageBody<TopicInfo>>(`/topics?${q}`)
      setExtra({ items: [...(extra?.items ?? []), ...page.items], cursor: page.nextCursor })
    } catch (err) {
      setMoreError(err as Error)
    } finally {
      setLoadingMore(false)
    }
  }

  return (
    <section className="flex flex-col gap-4" aria-label="Topics" aria-busy={load.loading}>
      <StatsStrip stats={live.latest} rates={live.rates} />
      <RateChart samples={live.samples} />
      <NodesPanel />
      <h2 className="sr-only">Live topics</h2>
      <div className="flex items-center gap-2">
        <div className="relative min-w-0 flex-1 sm:max-w-xs">
          <SearchIcon className="pointer-events-none absolute top-1/2 left-2.5 size-4 -translate-y-1/2 text-muted-foreground" />
          <Input
            placeholder="Filter topics by prefix"
            aria-label="Filter topics"
            aria-invalid={badPrefix || undefined}
            className="pl-8 font-mono text-[13px] md:text-[13px]"
            value={filter}
            onChange={(e) => setFilter(e.target.value)}
          />
        </div>
        <RefreshButton
          loading={load.loading && !load.data}
          onClick={() => {
            live.refresh()
            load.reload()
          }}
        />
        {load.at && (
          <span className="ml-auto hidden text-xs text-muted-foreground sm:inline">
            Updated {clock(load.at.toISOString())}
          </span>
        )}
      </div>

      {badPrefix && (
        <p className="text-sm text-destructive" role="alert">
          A topic prefix uses the characters A–Z a–z 0–9 - _ . : @ /
        </p>
      )}
      {live.error && !load.error && <ErrorState error={live.error} onRetry={live.refresh} />}
      {load.error && <ErrorState error={load.error} onRetry={load.reload} />}
      {!load.data && load.loading && <LoadingRows />}
      {load.data && items.length === 0 && !prefix && (
        <EmptyState icon={HashIcon} title="No live topics">
          A topic is live while at least one subscriber holds it. Connect one with{' '}
          <code className="font-mono">curl -N '{location.origin}/sse?topic=demo'</code> and refresh.
        </EmptyState>
      )}
      {load.data && items.length === 0 && prefix && !badPrefix && (
        <EmptyState icon={SearchIcon} title={`No topic matches “${prefix}”`}>
          No live topic starts with it.
        </EmptyState>
      )}
      {shown.length > 0 && (
        <div className="rounded-lg border bg-card">
          <Table>
            <TableHeader>
              <TableRow className="hover:bg-transparent">
                <TableHead className="w-full">Topic</TableHead>
                <TableHead className="text-right">Subscribers</TableHead>
                {clustered && <TableHead className="hidden md:table-cell">Nodes</TableHead>}
                <TableHead className="text-right">
                  <span className="sr-only">Actions</span>
                </TableHead>
              </TableRow>
            </TableHeader>
            <TableBody>
              {shown.map((t) => (
                <TableRow key={t.topic} data-testid="topic-row" data-topic={t.topic}>
                  <TableCell className="font-mono text-[13px] [overflow-wrap:anywhere] whitespace-normal">
                    <TopicName topic={t.topic} />
                  </TableCell>
                  <TableCell className="text-right tabular-nums">{count(t.subscribers)}</TableCell>
                  {clustered && (
                    <TableCell className="hidden md:table-cell">
                      <div className="flex flex-wrap gap-1">
                        {t.nodes.map((n) => (
                          <Badge key={n} variant="secondary" className="font-mono">
                            {n}
                          </Badge>
                        ))}
                      </div>
                    </TableCell>
                  )}
                  <TableCell>
                    <div className="flex items-start justify-end gap-1">
                      <PresenceButton topic={t.topic} />
                      <TopicLink tab="connections" topic={t.topic} />
                      <TopicLink tab="tail" topic={t.topic} />
                    </div>
                  </TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        </div>
      )}
      {moreError && <ErrorState error={moreError} onRetry={loadMore} />}
      {cursor && (
        <Button variant="outline" className="self-center" onClick={loadMore} disabled={loadingMore}>
          Load more topics
        </Button>
      )}
    </section>
  )
}

function TopicLink({ tab, topic }: { tab: 'connections' | 'tail'; topic: string }) {
  const r: Route = { tab, topic }
  const Icon = tab === 'tail' ? ActivityIcon : UsersIcon
  const label = tab === 'tail' ? 'Tail' : 'Connections'
  return (
    <Button variant="ghost" size="sm" asChild>
      <a href={hrefOf(r)} onClick={(e) => go(e, r)} aria-label={`${label} of ${topic}`}>
        <Icon />
        <span className="hidden sm:inline">{label}</span>
      </a>
    </Button>
  )
}
