import { Badge } from '@/components/ui/badge'
import { clock, count, dateTime } from '@/lib/format'
import type { TailEntry } from '@/lib/types'

const GAP_REASONS: Record<string, string> = {
  expired: 'its position had left the replay window',
  reset: 'the topic started a new sequence (restart or window lost)',
  'unknown-topic': 'its cursor did not cover this topic',
  malformed: 'its Last-Event-ID could not be read',
}

/**
 * One tailed event: time, kind, topic (when several are tailed), id and data. A drop says so and
 * has no data; a resume shows as a replay (held events sent) or a gap (events it cannot get).
 */
export function TailEntryRow({ entry, showTopic }: { entry: TailEntry; showTopic: boolean }) {
  return (
    <li
      data-testid="tail-entry"
      data-kind={entry.kind}
      data-id={entry.id}
      data-topic={entry.topic}
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
        {entry.kind === 'drop' && <Badge variant="warning">dropped</Badge>}
        {entry.kind === 'gap' && <Badge variant="destructive">gap</Badge>}
        {entry.kind === 'replay' && <Badge variant="success">replay</Badge>}
        {entry.kind === 'publish' && (
          <Badge variant="secondary" className="font-mono">
            {entry.event ?? 'message'}
          </Badge>
        )}
        {showTopic && (
          <span className="min-w-0 font-mono font-medium [overflow-wrap:anywhere]">
            {entry.topic}
          </span>
        )}
        {entry.kind === 'gap' || entry.kind === 'replay' ? (
          <span className="min-w-0 font-mono [overflow-wrap:anywhere]">
            <span className="text-muted-foreground">connection </span>
            {entry.connectionId}
          </span>
        ) : (
          <span className="min-w-0 font-mono [overflow-wrap:anywhere]">
            <span className="text-muted-foreground">id </span>
            {entry.id}
          </span>
        )}
        {entry.kind === 'publish' && entry.subscribers !== null && (
          <span className="text-muted-foreground sm:ml-auto">
            → {count(entry.subscribers)} {entry.subscribers === 1 ? 'subscriber' : 'subscribers'}
          </span>
        )}
      </div>
      {entry.kind === 'drop' && (
        <p className="text-xs text-muted-foreground">
          No subscriber held the topic: the gateway answered without reading the body.
        </p>
      )}
      {entry.kind === 'gap' && (
        <p className="text-xs text-muted-foreground" data-testid="tail-note">
          A resuming connection was told it missed events
          {entry.missed !== null ? ` (${count(entry.missed)})` : ''}:{' '}
          {GAP_REASONS[entry.reason ?? ''] ?? entry.reason}.
        </p>
      )}
      {entry.kind === 'replay' && (
        <p className="text-xs text-muted-foreground" data-testid="tail-note">
          A resuming connection was sent {count(entry.replayed ?? 0)} held{' '}
          {entry.replayed === 1 ? 'event' : 'events'} from the replay window.
        </p>
      )}
      {entry.kind === 'publish' && (
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
