import { ChevronLeftIcon, ChevronRightIcon, UsersIcon } from 'lucide-react'
import { useEffect, useState } from 'react'
import { BulkDisconnect } from '@/components/bulk-disconnect'
import { ConnectionList, type SortKey } from '@/components/connection-list'
import { ConnectionSearchForm, NO_SEARCH, type SearchFields } from '@/components/connection-search'
import { EmptyState, ErrorState, LoadingRows, RefreshButton } from '@/components/states'
import { TopicFilter } from '@/components/topic-filter'
import { Button } from '@/components/ui/button'
import { NativeSelect } from '@/components/ui/native-select'
import { useAuth } from '@/lib/auth'
import { useLive } from '@/lib/live'
import { navigate } from '@/lib/route'
import type { ConnectionInfo, PageBody } from '@/lib/types'
import { useLoad } from '@/lib/use-load'
import { useTopicNames } from '@/lib/use-topic-names'

const SIZES = [10, 25, 50, 100, 500] as const // the API caps a page at 500

/** The filter as query parameters: the listing's and the bulk disconnect's. */
function filterQuery(topic: string, search: SearchFields): URLSearchParams {
  const q = new URLSearchParams()
  if (topic) q.set('topic', topic)
  for (const [k, v] of Object.entries(search)) if (v) q.set(k, v)
  return q
}

/** The filter in words, for the bulk disconnect's confirmation. */
function describeFilter(topic: string, s: SearchFields): string {
  const parts = [
    topic && `subscribed to ${topic}`,
    s.topicPrefix && `with a topic starting ${s.topicPrefix}`,
    s.id && `whose id contains ${s.id}`,
    s.address && `from an address containing ${s.address}`,
    s.userAgent && `whose user agent contains “${s.userAgent}”`,
  ].filter(Boolean)
  return parts.join(', ')
}

/**
 * The connection list, one server page at a time, searched on the gateway (topic, id, topic
 * prefix, address, user agent), sorted on the gateway (oldest, newest, most events sent) and
 * refreshed live. The API's cursors only go forward, so the
 * cursors of the pages already seen are kept to step back.
 */
export function ConnectionsView({ topic }: { topic: string }) {
  const { request } = useAuth()
  const live = useLive()
  const names = useTopicNames()
  const [size, setSize] = useState<number>(50)
  const [search, setSearch] = useState<SearchFields>(NO_SEARCH)
  const [sort, setSort] = useState<SortKey>('oldest')
  const query = filterQuery(topic, search)
  // A new filter, sort or page size starts again from the first page.
  const filterKey = `${query}\n${size}\n${sort}`
  const [nav, setNav] = useState({ key: filterKey, cursors: [null] as (string | null)[] })
  const cursors = nav.key === filterKey ? nav.cursors : [null]
  const setCursors = (f: (cs: (string | null)[]) => (string | null)[]) =>
    setNav((n) => ({ key: filterKey, cursors: f(n.key === filterKey ? n.cursors : [null]) }))
  const page = cursors.length
  const cursor = cursors[cursors.length - 1] ?? null
  // The page the list should show. While the rows on screen are of another page or search, the
  // pager waits for them; a live refresh of the same page keeps it usable (Next used to be
  // disabled for the length of every refresh, so a click could miss).
  const pageKey = `${filterKey}\n${page}`
  // The outcome of the last disconnect, shown until the filter changes.
  const [notice, setNotice] = useState<{ key: string; ok: boolean; text: string } | null>(null)

  const load = useLoad(
    (signal) => {
      const q = filterQuery(topic, search)
      q.set('limit', String(size))
      // The gateway sorts the whole listing; the cursors page on in that order.
      if (sort !== 'oldest') q.set('sort', sort)
      if (cursor) q.set('cursor', cursor)
      const shown = { filter: filterQuery(topic, search).toString(), page, sort, key: pageKey }
      return request<PageBody<ConnectionInfo>>(`/connections?${q}`, { signal }).then((b) => ({
        ...b,
        shown,
      }))
    },
    [request, filterKey, cursor, live.tick],
  )
  const items = load.data?.items ?? []
  const navigating = load.data?.shown.key !== pageKey

  // Disconnecting the last row of a later page leaves it empty: step back to a page with rows.
  // (A search may also answer an empty page that only says where it stopped: keep that one.)
  const emptyLaterPage =
    !!load.data && load.data.items.length === 0 && page > 1 && !load.data.nextCursor
  // biome-ignore lint/correctness/useExhaustiveDependencies: setCursors is rebuilt every render
  useEffect(() => {
    if (emptyLaterPage) setCursors((cs) => cs.slice(0, -1))
  }, [emptyLaterPage])

  return (
    <section
      className="flex flex-col gap-4"
      aria-label="Connections"
      aria-busy={load.loading}
      data-testid="connections-view"
      data-filter={load.data?.shown.filter}
      data-page={load.data?.shown.page}
      data-sort={load.data?.shown.sort}
    >
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
          <NativeSelect
            className="flex-1 sm:flex-none"
            aria-label="Sort"
            value={sort}
            onChange={(e) => setSort(e.target.value as SortKey)}
          >
            <option value="oldest">Oldest first</option>
            <option value="newest">Newest first</option>
            <option value="events">Most events sent</option>
          </NativeSelect>
          <RefreshButton loading={load.loading && !load.data} onClick={load.reload} />
        </div>
      </div>
      <ConnectionSearchForm value={search} onSubmit={setSearch} />
      {items.length > 0 && (
        <div className="flex flex-wrap items-center justify-end gap-2">
          <BulkDisconnect
            query={query}
            describe={describeFilter(topic, search)}
            onDone={(r) => {
              setNotice(
                r.ok
                  ? { key: filterKey, ok: true, text: r.text }
                  : { key: filterKey, ok: false, text: `Could not disconnect: ${r.error.message}` },
              )
              load.reload()
            }}
          />
        </div>
      )}

      {notice?.key === filterKey && (
        <output
          className={notice.ok ? 'text-sm text-muted-foreground' : 'text-sm text-destructive'}
        >
          {notice.text}
        </output>
      )}
      {load.error && <ErrorState error={load.error} onRetry={load.reload} />}
      {!load.data && load.loading && <LoadingRows />}
      {load.data && items.length === 0 && page === 1 && !load.data.nextCursor && (
        <EmptyState icon={UsersIcon} title="No live connections">
          {query.size > (topic ? 1 : 0)
            ? 'No live connection matches this search.'
            : topic
              ? `Nobody is subscribed to ${topic} right now.`
              : 'Subscribers appear here as soon as they connect to /sse or /ws.'}
        </EmptyState>
      )}
      {load.data && items.length === 0 && !!load.data.nextCursor && (
        <EmptyState icon={UsersIcon} title="No match yet">
          The gateway searched part of the connections and found none here: go on with Next.
        </EmptyState>
      )}
      {load.data?.sortedOf !== undefined && (
        <p className="text-sm text-muted-foreground" role="note">
          Sorted over the first {load.data.sortedOf.toLocaleString()} matching connections only:
          narrow the search to sort them all.
        </p>
      )}
      {items.length > 0 && (
        <ConnectionList
          items={items}
          sort={sort}
          onDone={(r) => {
            setNotice(
              r.ok
                ? { key: filterKey, ok: true, text: r.text ?? 'Disconnected.' }
                : { key: filterKey, ok: false, text: `Could not do it: ${r.error.message}` },
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
            disabled={page === 1 || (navigating && load.loading)}
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
            disabled={!load.data?.nextCursor || navigating}
            onClick={() => setCursors((cs) => [...cs, load.data?.nextCursor ?? null])}
          >
            Next <ChevronRightIcon />
          </Button>
        </nav>
      )}
    </section>
  )
}
