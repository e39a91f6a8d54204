import { LoaderCircleIcon, MapPinIcon } from 'lucide-react'
import { useState } from 'react'
import { Button } from '@/components/ui/button'
import { useAuth } from '@/lib/auth'
import { count, dateTime, uptime } from '@/lib/format'
import type { TopicPresence } from '@/lib/types'

/** Presence of one topic (GET /admin/api/topics/{topic}): subscribers node by node, and since when. */
export function PresenceButton({ topic }: { topic: string }) {
  const { request } = useAuth()
  const [state, setState] = useState<
    { s: 'idle' } | { s: 'busy' } | { s: 'ok'; p: TopicPresence } | { s: 'error'; text: string }
  >({ s: 'idle' })

  async function look() {
    if (state.s === 'ok' || state.s === 'error') return setState({ s: 'idle' })
    setState({ s: 'busy' })
    try {
      const p = await request<TopicPresence>(`/topics/${encodeURIComponent(topic)}`)
      setState({ s: 'ok', p })
    } catch (err) {
      setState({ s: 'error', text: (err as Error).message })
    }
  }

  return (
    <div className="flex flex-col items-end gap-1">
      <Button
        variant="ghost"
        size="sm"
        aria-label={`Presence of ${topic}`}
        aria-expanded={state.s === 'ok' || state.s === 'error'}
        onClick={look}
      >
        {state.s === 'busy' ? <LoaderCircleIcon className="animate-spin" /> : <MapPinIcon />}
        <span className="hidden sm:inline">Presence</span>
      </Button>
      {state.s === 'error' && (
        <output className="max-w-64 text-right text-xs text-destructive">{state.text}</output>
      )}
      {state.s === 'ok' && (
        <output
          data-testid="presence"
          className="flex max-w-80 flex-wrap justify-end gap-x-3 gap-y-0.5 text-right text-xs"
        >
          {state.p.nodes.map((n) => (
            <span key={n.node} data-testid="presence-node" data-node={n.node}>
              <span className="font-mono">{n.node}</span>{' '}
              <span className="tabular-nums">{count(n.subscribers)}</span>
            </span>
          ))}
          <span className="text-muted-foreground" title={dateTime(state.p.since)}>
            live for {uptime(state.p.since)}
          </span>
        </output>
      )}
    </div>
  )
}
