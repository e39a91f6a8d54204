import { ActivityIcon, EraserIcon, PauseIcon, PlayIcon, RadioIcon } from 'lucide-react'
import { type MouseEvent, useEffect, useRef, useState } from 'react'
import { EmptyState } from '@/components/states'
import { TailEntryRow } from '@/components/tail-entry-row'
import { TailStatusBadge } from '@/components/tail-status'
import { TopicFilter } from '@/components/topic-filter'
import { Button } from '@/components/ui/button'
import { useAuth } from '@/lib/auth'
import { hrefOf, navigate } from '@/lib/route'
import { openTail, type TailStatus } from '@/lib/tail-stream'
import type { TailEntry } from '@/lib/types'
import { useTopicNames } from '@/lib/use-topic-names'

/** The newest events kept on screen; older ones fall off the bottom. */
const MAX_ENTRIES = 500

/** Live events of one topic (GET /admin/api/topics/{topic}/tail), newest first. */
export function TailView({ topic }: { topic: string }) {
  const names = useTopicNames()
  const choose = (t: string) => navigate({ tab: 'tail', topic: t })

  return (
    <section className="flex flex-col gap-4" aria-label="Tail events">
      <TopicFilter
        value={topic}
        suggestions={names}
        placeholder="Topic to tail, e.g. orders:42"
        action="Tail"
        onSubmit={choose}
      />
      {topic ? <TopicTail key={topic} topic={topic} /> : <ChooseTopic names={names} />}
    </section>
  )
}

function ChooseTopic({ names }: { names: string[] }) {
  return (
    <EmptyState icon={ActivityIcon} title="Choose a topic to tail">
      <p>
        Events published to the topic from now on appear here as they pass through the gateway,
        including publishes dropped because nobody was subscribed. A tail is not a subscriber.
      </p>
      {names.length > 0 && (
        <div className="mt-4 flex flex-wrap justify-center gap-2">
          {names.slice(0, 12).map((t) => (
            <Button key={t} variant="outline" size="sm" className="font-mono" asChild>
              <a
                href={hrefOf({ tab: 'tail', topic: t })}
                onClick={(e: MouseEvent) => {
                  e.preventDefault()
                  navigate({ tab: 'tail', topic: t })
                }}
              >
                {t}
              </a>
            </Button>
          ))}
        </div>
      )}
    </EmptyState>
  )
}

function TopicTail({ topic }: { topic: string }) {
  const { key, logout } = useAuth()
  const [status, setStatus] = useState<TailStatus>({ state: 'connecting' })
  const [entries, setEntries] = useState<TailEntry[]>([])
  const [paused, setPaused] = useState(false)
  const [held, setHeld] = useState<TailEntry[]>([])
  const pausedRef = useRef(false)

  useEffect(() => {
    if (!key) return
    const tail = openTail(key, topic, {
      status: setStatus,
      entry(e) {
        // While paused, events are held (not lost) and shown on resume.
        const add = (list: TailEntry[]) => [e, ...list].slice(0, MAX_ENTRIES)
        if (pausedRef.current) setHeld(add)
        else setEntries(add)
      },
      unauthorized: () => logout('The gateway no longer accepts the saved key. Sign in again.'),
    })
    return () => tail.close()
  }, [key, topic, logout])

  function togglePause() {
    if (paused) {
      setEntries((list) => [...held, ...list].slice(0, MAX_ENTRIES))
      setHeld([])
    }
    pausedRef.current = !paused
    setPaused(!paused)
  }

  return (
    <div className="flex flex-col gap-3">
      <div className="flex flex-wrap items-center gap-2">
        <TailStatusBadge status={status} paused={paused} />
        <span className="text-sm text-muted-foreground" data-testid="tail-count">
          {entries.length} {entries.length === 1 ? 'event' : 'events'}
        </span>
        <div className="ml-auto flex gap-2">
          <Button variant="outline" size="sm" onClick={togglePause}>
            {paused ? <PlayIcon /> : <PauseIcon />}
            {paused ? `Resume${held.length ? ` (${held.length} new)` : ''}` : 'Pause'}
          </Button>
          <Button
            variant="outline"
            size="sm"
            onClick={() => {
              setEntries([])
              setHeld([])
            }}
            disabled={entries.length === 0 && held.length === 0}
          >
            <EraserIcon /> Clear
          </Button>
        </div>
      </div>
      {entries.length === 0 ? (
        <EmptyState icon={RadioIcon} title={paused ? 'Paused' : `Waiting for events on ${topic}`}>
          {status.state === 'live'
            ? 'The tail is open. Publish to this topic and the event shows up here.'
            : 'Opening the tail…'}
        </EmptyState>
      ) : (
        <ol className="divide-y rounded-lg border bg-card" aria-label="Events">
          {entries.map((e) => (
            <TailEntryRow key={e.seq} entry={e} />
          ))}
        </ol>
      )}
    </div>
  )
}
