import { LoaderCircleIcon, SendIcon } from 'lucide-react'
import { type FormEvent, useId, useState } from 'react'
import { Button } from '@/components/ui/button'
import { Input } from '@/components/ui/input'
import { Label } from '@/components/ui/label'
import { NativeSelect } from '@/components/ui/native-select'
import { useAuth } from '@/lib/auth'
import { publishEvent, testEventId } from '@/lib/publish'

/**
 * Publishes a test event to a tailed topic with the key in hand (POST /publish), so the tail
 * shows the whole path: the event, how many subscribers got it, or that it was dropped.
 */
export function TestEventForm({ topics }: { topics: string[] }) {
  const { key } = useAuth()
  const ids = useId()
  const [topic, setTopic] = useState(topics[0] ?? '')
  const [event, setEvent] = useState('test')
  const [data, setData] = useState('{"hello":"from the admin console"}')
  const [busy, setBusy] = useState(false)
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null)
  const target = topics.includes(topic) ? topic : (topics[0] ?? '')

  async function send(e: FormEvent) {
    e.preventDefault()
    if (!key || !target) return
    setBusy(true)
    const id = testEventId()
    try {
      const a = await publishEvent(key, { topic: target, id, event: event.trim(), data })
      setResult({
        ok: true,
        text: a.dropped.length
          ? `Sent ${id}: dropped, nobody is subscribed to ${target}.`
          : `Sent ${id} to ${target}.`,
      })
    } catch (err) {
      setResult({ ok: false, text: `Could not send: ${(err as Error).message}` })
    } finally {
      setBusy(false)
    }
  }

  return (
    <details className="rounded-lg border bg-card px-3 py-2 text-sm sm:px-4">
      <summary className="cursor-pointer font-medium">Send a test event</summary>
      <form onSubmit={send} className="mt-3 flex flex-col gap-3" aria-label="Send a test event">
        <div className="grid gap-3 sm:grid-cols-[1fr_10rem]">
          <div className="flex flex-col gap-1.5">
            <Label htmlFor={`${ids}-topic`}>Test topic</Label>
            <NativeSelect
              id={`${ids}-topic`}
              value={target}
              onChange={(e) => setTopic(e.target.value)}
            >
              {topics.map((t) => (
                <option key={t} value={t}>
                  {t}
                </option>
              ))}
            </NativeSelect>
          </div>
          <div className="flex flex-col gap-1.5">
            <Label htmlFor={`${ids}-event`}>Event type</Label>
            <Input
              id={`${ids}-event`}
              value={event}
              placeholder="message"
              className="font-mono"
              onChange={(e) => setEvent(e.target.value)}
            />
          </div>
        </div>
        <div className="flex flex-col gap-1.5">
          <Label htmlFor={`${ids}-data`}>Data</Label>
          <textarea
            id={`${ids}-data`}
            value={data}
            rows={2}
            onChange={(e) => setData(e.target.value)}
            className="w-full rounded-md border border-input bg-card px-3 py-1.5 font-mono text-xs shadow-xs outline-none focus-visible:border-ring focus-visible:ring-[3px] focus-visible:ring-ring/50"
          />
        </div>
        <div className="flex flex-wrap items-center gap-3">
          <Button type="submit" size="sm" disabled={busy || !target}>
            {busy ? <LoaderCircleIcon className="animate-spin" /> : <SendIcon />}
            Send test event
          </Button>
          {result && (
            <output
              data-testid="test-event-result"
              className={result.ok ? 'text-muted-foreground' : 'text-destructive'}
            >
              {result.text}
            </output>
          )}
        </div>
      </form>
    </details>
  )
}
