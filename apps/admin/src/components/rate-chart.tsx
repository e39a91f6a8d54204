import { rate } from '@/lib/format'
import { rateOf, type Sample } from '@/lib/live'
import type { Stats } from '@/lib/types'

const SERIES: { name: string; pick: (s: Stats) => number; color: string; dash?: string }[] = [
  { name: 'Published', pick: (s) => s.published, color: 'var(--chart-1)' },
  { name: 'Delivered', pick: (s) => s.delivered, color: 'var(--chart-2)', dash: '4 2' },
  { name: 'Dropped', pick: (s) => s.dropped, color: 'var(--chart-3)', dash: '1 2' },
]
const W = 600
const H = 90

/**
 * Events per second over the last minutes, from the readings the live refresh took since the
 * page opened: published, delivered and dropped (line styles differ, not only colours).
 */
export function RateChart({ samples }: { samples: Sample[] }) {
  const points = samples.slice(1).map((b, i) => {
    const a = samples[i] as Sample
    return { at: b.at, values: SERIES.map((s) => rateOf(a, b, s.pick)) }
  })
  const first = points[0]?.at ?? 0
  const last = points.at(-1)?.at ?? 0
  const span = Math.max(60_000, last - first)
  const top = Math.max(1, ...points.flatMap((p) => p.values))
  const x = (at: number) => ((at - (last - span)) / span) * W
  const y = (v: number) => H - 4 - (v / top) * (H - 8)
  const now = points.at(-1)?.values
  const minutes = Math.round(span / 60_000)
  const summary = now
    ? `Events per second over the last ${minutes} min; now ${SERIES.map((s, i) => `${s.name.toLowerCase()} ${rate(now[i])}`).join(', ')}`
    : 'Events per second: waiting for two readings'

  return (
    <figure className="flex flex-col gap-2 rounded-lg border bg-card px-3 py-2.5 sm:px-4">
      <figcaption className="flex flex-wrap items-center gap-x-4 gap-y-1 text-xs">
        <span className="font-medium">Events/s, last {minutes} min</span>
        {SERIES.map((s, i) => (
          <span key={s.name} className="flex items-center gap-1.5 text-muted-foreground">
            <svg width="16" height="4" aria-hidden="true">
              <line
                x1="0"
                y1="2"
                x2="16"
                y2="2"
                stroke={s.color}
                strokeWidth="2"
                strokeDasharray={s.dash}
              />
            </svg>
            {s.name} {now ? rate(now[i]) : ''}
          </span>
        ))}
        <span className="ml-auto text-muted-foreground tabular-nums">peak {rate(top)}</span>
      </figcaption>
      <svg
        viewBox={`0 0 ${W} ${H}`}
        preserveAspectRatio="none"
        className="h-20 w-full"
        role="img"
        aria-label={summary}
        data-testid="rate-chart"
        data-points={points.length}
      >
        <line x1="0" y1={H - 4} x2={W} y2={H - 4} stroke="var(--border)" />
        {points.length > 1 &&
          SERIES.map((s, i) => (
            <polyline
              key={s.name}
              fill="none"
              stroke={s.color}
              strokeWidth="2"
              strokeDasharray={s.dash}
              vectorEffect="non-scaling-stroke"
              points={points
                .map((p) => `${x(p.at).toFixed(1)},${y(p.values[i] ?? 0).toFixed(1)}`)
                .join(' ')}
            />
          ))}
      </svg>
    </figure>
  )
}
