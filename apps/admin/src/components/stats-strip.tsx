import { count } from '@/lib/format'
import type { Stats } from '@/lib/types'
import { cn } from '@/lib/utils'

/**
 * The deployment's counters at a glance (GET /admin/api/stats), above the topic list. One row
 * from 640 px up; on a phone, live counts on the first row and traffic counts on the second.
 */
export function StatsStrip({ stats }: { stats: Stats | undefined }) {
  const items: [string, number | undefined, string][] = [
    ['Connections', stats?.connections, 'col-span-3'],
    ['Topics', stats?.topics, 'col-span-3'],
    ['Published', stats?.published, 'col-span-2'],
    ['Delivered', stats?.delivered, 'col-span-2'],
    ['Dropped', stats?.dropped, 'col-span-2'],
  ]
  return (
    <dl
      data-testid="stats"
      className="grid grid-cols-6 gap-px overflow-hidden rounded-lg border bg-border sm:grid-cols-5"
    >
      {items.map(([label, value, span]) => (
        <div
          key={label}
          className={cn('flex flex-col gap-0.5 bg-card px-3 py-2.5 sm:col-span-1 sm:px-4', span)}
        >
          <dt className="text-xs text-muted-foreground">{label}</dt>
          <dd className="text-lg font-semibold tabular-nums">
            {value === undefined ? '–' : count(value)}
          </dd>
        </div>
      ))}
    </dl>
  )
}
