import { bytes, count, rate } from '@/lib/format'
import type { Rates } from '@/lib/live'
import type { Stats } from '@/lib/types'

/**
 * The deployment's counters at a glance (GET /admin/api/stats, read at every live refresh),
 * with the rates between the last two readings next to the traffic totals.
 */
export function StatsStrip({
  stats,
  rates,
}: {
  stats: Stats | undefined
  rates: Rates | undefined
}) {
  const items: { label: string; value: string; rate?: string; title?: string }[] = [
    {
      label: 'Connections',
      value: stats ? count(stats.connections) : '–',
      title: stats ? `${count(stats.connectionsTotal)} since start` : undefined,
    },
    { label: 'Topics', value: stats ? count(stats.topics) : '–' },
    {
      label: 'Published',
      value: stats ? count(stats.published) : '–',
      rate: rate(rates?.published),
    },
    {
      label: 'Delivered',
      value: stats ? count(stats.delivered) : '–',
      rate: rate(rates?.delivered),
    },
    { label: 'Dropped', value: stats ? count(stats.dropped) : '–', rate: rate(rates?.dropped) },
    { label: 'Bytes sent', value: stats ? bytes(stats.bytesSent) : '–' },
    {
      label: 'Slow consumers',
      value: stats ? count(stats.slowConsumerDisconnects) : '–',
      title: 'Connections closed for falling behind (SLOW_CONSUMER_BYTES)',
    },
    {
      label: 'Replayed · gaps',
      value: stats ? `${count(stats.replayed ?? 0)} · ${count(stats.gaps ?? 0)}` : '–',
      title: 'Events resent from the replay window on resume · resumes told they missed events',
    },
  ]
  if (stats?.broadcasts !== undefined || stats?.directSends !== undefined) {
    items.push({
      label: 'Broadcasts · direct',
      value: `${count(stats.broadcasts ?? 0)} · ${count(stats.directSends ?? 0)}`,
      title: 'Broadcasts to every connection · events sent to one connection',
    })
  }
  if (stats?.subscriptionsRefused !== undefined) {
    items.push({
      label: 'Refused',
      value: count(stats.subscriptionsRefused),
      title: 'Subscriptions refused for private topics (no token, bad token, not granted)',
    })
  }
  return (
    <dl
      data-testid="stats"
      className="grid grid-cols-2 gap-px overflow-hidden rounded-lg border bg-border sm:grid-cols-4 lg:grid-cols-[repeat(auto-fit,minmax(8rem,1fr))]"
    >
      {items.map((it) => (
        <div
          key={it.label}
          className="flex flex-col gap-0.5 bg-card px-3 py-2.5 sm:px-4"
          title={it.title}
          data-testid={`stat-${it.label.split(' ')[0]?.toLowerCase()}`}
        >
          <dt className="text-xs text-muted-foreground">{it.label}</dt>
          <dd className="flex flex-wrap items-baseline gap-x-1.5">
            <span className="text-lg font-semibold tabular-nums" data-testid="stat-value">
              {it.value}
            </span>
            {it.rate !== undefined && (
              <span className="text-xs text-muted-foreground tabular-nums" data-testid="stat-rate">
                {it.rate}
              </span>
            )}
          </dd>
        </div>
      ))}
    </dl>
  )
}
