import { Badge } from '@/components/ui/badge'
import type { TailStatus } from '@/lib/tail-stream'
import { cn } from '@/lib/utils'

/** Whether the tail is receiving: a live dot, or what it is waiting for. */
export function TailStatusBadge({ status, paused }: { status: TailStatus; paused: boolean }) {
  const [text, dot, title] =
    status.state === 'live'
      ? [paused ? 'Live · paused' : 'Live', 'bg-success', undefined]
      : status.state === 'connecting'
        ? ['Connecting…', 'bg-warning animate-pulse', undefined]
        : [
            `Reconnecting in ${Math.ceil(status.retryInMs / 1000)} s`,
            'bg-destructive animate-pulse',
            status.reason,
          ]
  return (
    <Badge variant="outline" data-testid="tail-status" data-state={status.state} title={title}>
      <span className={cn('size-2 rounded-full', dot)} />
      {text}
    </Badge>
  )
}
