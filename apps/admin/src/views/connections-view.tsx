import { ChevronLeftIcon, ChevronRightIcon, UsersIcon } from 'lucide-react'
import { useEffect, useState } from 'react'
import { ConnectionList } from '@/components/connection-list'
import { EmptyState, ErrorState, LoadingRows, RefreshButton } from '@/components/states'
import { TopicFilter } from '@/components/topic-filter'
import { Button } from '@/components/ui/button'
import { NativeSelect } from '@/components/ui/native-select'
import { useAuth } from '@/lib/auth'
import { navigate } from '@/lib/route'
import type { ConnectionInfo, PageBody } from '@/lib/types'
import { useLoad } from '@/lib/use-load'
import { useTopicNames } from '@/lib/use-topic-names'

const SIZES = [10, 25, 50, 100, 500] as const // the API caps a page at 500

/**
 * The connection list, one server page at a time. The API's cursors only go forward, so the
 * cursors of the pages already seen are kept to step back.
 */
export function ConnectionsView({ topic }: { topic: string }) {
  const { request } = useAuth()
  const names = useTopicNames()
  const [size, setSize] = useState<number>(50)
  // A new filter or page size starts again from the first page.
  const filterKey = `${topic}\n${size}`
  const [nav, setNav] = useState({ key: filterKey, cursors: [null] as (string | null)[] })
  const cursors = nav.key === filterKey ? nav.cursors : [null]
  const setCursors = (f: (cs: (string | null)[]) => (string | null)[]) =>
    setNav((n) => ({ key: filterKey, cursors: f(n.key === filterKey ? n.cursors : [null]) }))
  const page = cursors.length
  const cursor = cursors[cursors.length - 1] ?? null
  // The outcome of the last disconnect, shown until the filter changes.
  const [notice, setNotice] = useState<{ key: string; ok: boolean; text: string } | null>(null)

  const load = useLoad(
    (signal) => {
      const q = new URLSearchParams({ limit: String(size) })
      if (topic) q.set('topic', topic)
      if (cursor) q.set('cursor', cursor)
      return request<PageBody<ConnectionInfo>>(`/connections?${q}`, { signal })
    },
    [request, topic, size, cursor],
  )
  const items = load.data?.items ?? []

  // Disconnecting the last row of a later page leaves it empty: step back to a page with rows.
  const emptyLaterPage = !!load.data && load.data.items.length === 0 && page > 1
  // biome-ignore lint/correctness/useExhaustiveDependencies: setCursors is rebuilt every render
  useEffect(() => {
    if (emptyLaterPage) setCursors((cs) => cs.slice(0, -1))
  }, [emptyLaterPage])

  return (
    <section className="flex flex-col gap-4" aria-label="Connections" aria-busy={load.loading}>
      <div className="flex flex-wrap items-start gap-2">
        <TopicFilter
          value={topic}
          suggestions={names}
          placeholder="All topics"
          action="Filter"
          clearable
          onSubmit={(t) => navigate({ tab: 'connections', topic: t })}
        />
        <div className="flex w-full items-center gap-2 sm:w-auto">
          <NativeSelect
            className="flex-1 sm:flex-none"
            aria-label="Page size"
            value={size}
            onChange={(e) => setSize(Number(e.target.value))}
          >
            {SIZES.map((s) => (
              <option key={s} value={s}>
                {s} / page
              </option>
            ))}
          </NativeSelect>
          <RefreshButton loading={load.loading} onClick={load.reload} />
        </div>
      </div>

      {notice?.key === filterKey && (
        <output
          className={notice.ok ? 'text-sm text-muted-foreground' : 'text-sm text-destructive'}
        >
          {notice.text}
        </output>
      )}
      {load.error && <ErrorState error={load.error} onRetry={load.reload} />}
      {!load.data && load.loading && <LoadingRows />}
      {load.data && items.length === 0 && page === 1 && (
        <EmptyState icon={UsersIcon} title="No live connections">
          {topic
            ? `Nobody is subscribed to ${topic} right now.`
            : 'Subscribers appear here as soon as they connect to /sse or /ws.'}
        </EmptyState>
      )}
      {items.length > 0 && (
        <ConnectionList
          items={items}
          onDone={(r) => {
            setNotice(
              r.ok
                ? { key: filterKey, ok: true, text: 'Disconnected.' }
                : { key: filterKey, ok: false, text: `Could not disconnect: ${r.error.message}` },
            )
            load.reload()
          }}
        />
      )}
      {(page > 1 || load.data?.nextCursor) && (
        <nav className="flex items-center justify-between gap-2" aria-label="Pages">
          <Button
            variant="outline"
            size="sm"
            disabled={page === 1 || load.loading}
            onClick={() => setCursors((cs) => cs.slice(0, -1))}
          >
            <ChevronLeftIcon /> Previous
          </Button>
          <span className="text-sm text-muted-foreground" data-testid="page-label">
            Page {page}
          </span>
          <Button
            variant="outline"
            size="sm"
            disabled={!load.data?.nextCursor || load.loading}
            onClick={() => setCursors((cs) => [...cs, load.data?.nextCursor ?? null])}
          >
            Next <ChevronRightIcon />
          </Button>
        </nav>
      )}
    </section>
  )
}
