import { Badge } from '@/components/ui/badge'
import { clock, count, dateTime } from '@/lib/format'
import type { TailEntry } from '@/lib/types'

/** One tailed event: time, kind, id and data; a drop says so, and has no data to show. */
export function TailEntryRow({ entry }: { entry: TailEntry }) {
  const drop = entry.kind === 'drop'
  return (
    <li
      data-testid="tail-entry"
      data-kind={entry.kind}
      data-id={entry.id}
      className="flex flex-col gap-1.5 px-3 py-2.5 sm:px-4"
    >
      <div className="flex flex-wrap items-center gap-x-3 gap-y-1 text-xs">
        <time
          dateTime={entry.time}
          title={dateTime(entry.time)}
          className="font-mono text-muted-foreground tabular-nums"
        >
          {clock(entry.time)}
        </time>
        {drop ? (
          <Badge variant="warning">dropped</Badge>
        ) : (
          <Badge variant="secondary" className="font-mono">
            {entry.event ?? 'message'}
          </Badge>
        )}
        <span className="min-w-0 font-mono [overflow-wrap:anywhere]">
          <span className="text-muted-foreground">id </span>
          {entry.id}
        </span>
        {!drop && entry.subscribers !== null && (
          <span className="text-muted-foreground sm:ml-auto">
            → {count(entry.subscribers)} {entry.subscribers === 1 ? 'subscriber' : 'subscribers'}
          </span>
        )}
      </div>
      {drop ? (
        <p className="text-xs text-muted-foreground">
          No subscriber held the topic: the gateway answered without reading the body.
        </p>
      ) : (
        <pre
          data-testid="tail-data"
          className="max-h-40 overflow-auto rounded-md bg-muted px-2.5 py-1.5 font-mono text-xs [overflow-wrap:anywhere] whitespace-pre-wrap"
        >
          {entry.data}
        </pre>
      )}
    </li>
  )
}
