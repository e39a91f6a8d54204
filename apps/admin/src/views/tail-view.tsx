import { ActivityIcon, EraserIcon, PauseIcon, PlayIcon, RadioIcon } from 'lucide-react'
import { type MouseEvent, useEffect, useMemo, useRef, useState } from 'react'
import { EmptyState } from '@/components/states'
import { TailEntryRow } from '@/components/tail-entry-row'
import { TailStatusBadge } from '@/components/tail-status'
import { TestEventForm } from '@/components/test-event-form'
import { TopicFilter } from '@/components/topic-filter'
import { Badge } from '@/components/ui/badge'
import { Button } from '@/components/ui/button'
import { useAuth } from '@/lib/auth'
import { useLive } from '@/lib/live'
import { hrefOf, navigate } from '@/lib/route'
import { openTail, type TailStatus } from '@/lib/tail-stream'
import type { PageBody, TailEntry, TopicInfo } from '@/lib/types'
import { useTopicNames } from '@/lib/use-topic-names'

/** The newest events kept on screen; older ones fall off the bottom. */
const MAX_ENTRIES = 500
/** Topics one tail view follows at most (each one is its own stream; a prefix may match many). */
export const MAX_TAILED = 20

/**
 * Live events of one topic, several (`a,b`) or every live topic under a prefix (`orders:*`),
 * newest first: one `GET /admin/api/topics/{topic}/tail` stream per topic, merged here.
 */
export function TailView({ topic }: { topic: string }) {
  const names = useTopicNames()
  const choose = (t: string) => navigate({ tab: 'tail', topic: t })

  return (
    <section className="flex flex-col gap-4" aria-label="Tail events">
      <TopicFilter
        value={topic}
        suggestions={names}
        placeholder="Topics to tail: orders:42, tenant/acme/*"
        action="Tail"
        multi
        onSubmit={choose}
      />
      {topic ? <Tails key={topic} spec={topic} /> : <ChooseTopic names={names} />}
    </section>
  )
}

function ChooseTopic({ names }: { names: string[] }) {
  return (
    <EmptyState icon={ActivityIcon} title="Choose a topic to tail">
      <p>
        Events published to the topic from now on appear here as they pass through the gateway,
        including publishes dropped because nobody was subscribed, and resumes (replays and gaps). A
        tail is not a subscriber. Tail several topics with commas, or every live topic under a
        prefix with <code className="font-mono">prefix*</code>.
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

/**
 * The topics a tail spec names now: its plain names, and the live topics under each `prefix*`
 * (read again at every live refresh, so a topic that appears under the prefix is followed).
 */
function useTailedTopics(spec: string): { topics: string[]; capped: boolean } {
  const { request } = useAuth()
  const { tick } = useLive()
  const parts = useMemo(() => spec.split(',').filter(Boolean), [spec])
  const plain = parts.filter((p) => !p.endsWith('*'))
  const prefixes = parts.filter((p) => p.endsWith('*')).map((p) => p.slice(0, -1))
  const [found, setFound] = useState<string[]>([])
  const key = prefixes.join(',')

  // biome-ignore lint/correctness/useExhaustiveDependencies: tick re-reads the prefixes' topics
  useEffect(() => {
    if (prefixes.length === 0) return
    const ctl = new AbortController()
    Promise.all(
      prefixes.map((p) => {
        const q = new URLSearchParams({ limit: String(MAX_TAILED + 1) })
        if (p) q.set('prefix', p)
        return request<PageBody<TopicInfo>>(`/topics?${q}`, { signal: ctl.signal })
      }),
    ).then(
      (pages) => {
        const next = pages.flatMap((p) => p.items.map((t) => t.topic))
        setFound((old) => (old.join() === next.join() ? old : next))
      },
      () => {},
    )
    return () => ctl.abort()
  }, [key, tick, request])

  // A topic once followed stays followed (its tail sees drops after its subscribers leave).
  const [kept, setKept] = useState<string[]>([])
  const all = [...new Set([...plain, ...kept, ...found])]
  const topics = all.slice(0, MAX_TAILED)
  useEffect(() => {
    setKept((old) => (old.join() === found.join() ? old : [...new Set([...old, ...found])]))
  }, [found])
  return { topics, capped: all.length > MAX_TAILED }
}

function Tails({ spec }: { spec: string }) {
  const { key, logout } = useAuth()
  const { topics, capped } = useTailedTopics(spec)
  const [statuses, setStatuses] = useState<Record<string, TailStatus>>({})
  const [entries, setEntries] = useState<TailEntry[]>([])
  const [paused, setPaused] = useState(false)
  const [held, setHeld] = useState<TailEntry[]>([])
  const pausedRef = useRef(false)
  const topicsKey = topics.join(',')
  const multi = spec.includes(',') || spec.includes('*')

  // biome-ignore lint/correctness/useExhaustiveDependencies: topicsKey stands for topics
  useEffect(() => {
    if (!key) return
    const tails = topics.map((topic) =>
      openTail(key, topic, {
        status: (s) => setStatuses((m) => ({ ...m, [topic]: s })),
        entry(e) {
          // While paused, events are held (not lost) and shown on resume.
          const add = (list: TailEntry[]) => [e, ...list].slice(0, MAX_ENTRIES)
          if (pausedRef.current) setHeld(add)
          else setEntries(add)
        },
        unauthorized: () => logout('The gateway no longer accepts the saved key. Sign in again.'),
      }),
    )
    return () => {
      for (const t of tails) t.close()
    }
  }, [key, topicsKey, logout])

  const states = topics.map((t) => statuses[t] ?? ({ state: 'connecting' } as TailStatus))
  const status: TailStatus =
    states.find((s) => s.state === 'reconnecting') ??
    states.find((s) => s.state === 'connecting') ??
    (states.length > 0 ? { state: 'live' } : { state: 'connecting' })

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
      {multi && (
        <div className="flex flex-wrap items-center gap-1.5 text-sm" data-testid="tailed-topics">
          <span className="text-muted-foreground">
            Following {topics.length} {topics.length === 1 ? 'topic' : 'topics'}
            {capped ? ` (the first ${MAX_TAILED})` : ''}:
          </span>
          {topics.map((t) => (
            <Badge key={t} variant="secondary" className="font-mono font-normal">
              {t}
            </Badge>
          ))}
        </div>
      )}
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
      {topics.length > 0 && <TestEventForm topics={topics} />}
      {entries.length === 0 ? (
        <EmptyState
          icon={RadioIcon}
          title={
            paused
              ? 'Paused'
              : topics.length === 0
                ? `No live topic matches ${spec}`
                : `Waiting for events on ${topics.length === 1 ? topics[0] : `${topics.length} topics`}`
          }
        >
          {topics.length === 0
            ? 'A prefix follows the live topics under it; they are looked up again at every refresh.'
            : status.state === 'live'
              ? 'The tail is open. Publish to this topic and the event shows up here.'
              : 'Opening the tail…'}
        </EmptyState>
      ) : (
        <ol className="divide-y rounded-lg border bg-card" aria-label="Events">
          {entries.map((e) => (
            <TailEntryRow key={e.seq} entry={e} showTopic={topics.length > 1 || multi} />
          ))}
        </ol>
      )}
    </div>
  )
}
