import { DisconnectButton } from '@/components/disconnect-button'
import { SendEventButton } from '@/components/send-event-button'
import { Badge } from '@/components/ui/badge'
import {
  Table,
  TableBody,
  TableCell,
  TableHead,
  TableHeader,
  TableRow,
} from '@/components/ui/table'
import { ago, bytes, count, dateTime } from '@/lib/format'
import type { ConnectionInfo } from '@/lib/types'

type Done = (result: { ok: true; text?: string } | { ok: false; error: Error }) => void

/** The listing's order (`?sort=`), applied by the gateway across pages. */
export type SortKey = 'oldest' | 'newest' | 'events'

function Actions({ conn, onDone }: { conn: ConnectionInfo; onDone: Done }) {
  return (
    <div className="flex justify-end gap-0.5">
      <SendEventButton conn={conn} onDone={onDone} />
      <DisconnectButton conn={conn} onDone={onDone} />
    </div>
  )
}

function Topics({ topics }: { topics: string[] }) {
  return (
    <div className="flex flex-wrap gap-1">
      {topics.map((t) => (
        <Badge key={t} variant="secondary" className="font-mono font-normal">
          {t}
        </Badge>
      ))}
    </div>
  )
}

function Since({ iso }: { iso: string }) {
  return (
    <time dateTime={iso} title={dateTime(iso)} className="text-xs whitespace-nowrap">
      {ago(iso)}
    </time>
  )
}

/**
 * One page of connections: a table from 768 px up, a stack of cards below (a nine-column table
 * cannot be read on a phone).
 */
export function ConnectionList({
  items,
  sort = 'oldest',
  onDone,
}: {
  items: ConnectionInfo[]
  sort?: SortKey
  onDone: Done
}) {
  return (
    <>
      <div className="hidden overflow-x-auto rounded-lg border bg-card md:block">
        <Table>
          <TableHeader>
            <TableRow className="hover:bg-transparent">
              <TableHead>Connection</TableHead>
              <TableHead>Topics</TableHead>
              <TableHead>Node</TableHead>
              <TableHead
                aria-sort={
                  sort === 'events' ? undefined : sort === 'oldest' ? 'descending' : 'ascending'
                }
              >
                Connected
              </TableHead>
              <TableHead>Remote address</TableHead>
              <TableHead>User agent</TableHead>
              <TableHead
                className="text-right"
                aria-sort={sort === 'events' ? 'descending' : undefined}
              >
                Events sent
              </TableHead>
              <TableHead>
                <span className="sr-only">Actions</span>
              </TableHead>
            </TableRow>
          </TableHeader>
          <TableBody>
            {items.map((c) => (
              <TableRow key={c.id} data-testid="connection-row" data-id={c.id}>
                <TableCell>
                  <div className="flex items-center gap-2">
                    <Badge variant="outline" className="uppercase">
                      {c.transport}
                    </Badge>
                    <span className="font-mono text-xs">{c.id}</span>
                  </div>
                </TableCell>
                <TableCell className="max-w-56">
                  <Topics topics={c.topics} />
                </TableCell>
                <TableCell className="font-mono text-xs whitespace-nowrap">{c.node}</TableCell>
                <TableCell>
                  <Since iso={c.connectedAt} />
                </TableCell>
                <TableCell className="font-mono text-xs">{c.remoteAddress ?? '–'}</TableCell>
                <TableCell className="max-w-40 truncate text-xs" title={c.userAgent ?? ''}>
                  {c.userAgent ?? '–'}
                </TableCell>
                <TableCell className="text-right tabular-nums" title={bytes(c.bytesSent)}>
                  {count(c.eventsSent)}
                </TableCell>
                <TableCell className="text-right">
                  <Actions conn={c} onDone={onDone} />
                </TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      </div>
      <ul className="flex flex-col gap-2 md:hidden">
        {items.map((c) => (
          <li
            key={c.id}
            data-testid="connection-card"
            data-id={c.id}
            className="flex flex-col gap-2 rounded-lg border bg-card p-3 text-sm"
          >
            <div className="flex items-center gap-2">
              <Badge variant="outline" className="uppercase">
                {c.transport}
              </Badge>
              <span className="min-w-0 truncate font-mono text-xs">{c.id}</span>
              <div className="ml-auto">
                <Actions conn={c} onDone={onDone} />
              </div>
            </div>
            <Topics topics={c.topics} />
            <dl className="grid grid-cols-[auto_1fr] gap-x-3 gap-y-1 text-xs">
              <dt className="text-muted-foreground">Connected</dt>
              <dd>
                <Since iso={c.connectedAt} />
              </dd>
              <dt className="text-muted-foreground">Events</dt>
              <dd className="tabular-nums">
                {count(c.eventsSent)} ({bytes(c.bytesSent)})
              </dd>
              <dt className="text-muted-foreground">Node</dt>
              <dd className="truncate font-mono">{c.node}</dd>
              <dt className="text-muted-foreground">From</dt>
              <dd className="truncate font-mono">{c.remoteAddress ?? '–'}</dd>
              <dt className="text-muted-foreground">Agent</dt>
              <dd className="truncate">{c.userAgent ?? '–'}</dd>
            </dl>
          </li>
        ))}
      </ul>
    </>
  )
}
