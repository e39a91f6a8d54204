import { LoaderCircleIcon, SendIcon } from 'lucide-react'
import { type FormEvent, useId, useState } from 'react'
import {
  AlertDialog,
  AlertDialogCancel,
  AlertDialogContent,
  AlertDialogDescription,
  AlertDialogFooter,
  AlertDialogHeader,
  AlertDialogTitle,
  AlertDialogTrigger,
} from '@/components/ui/alert-dialog'
import { Button } from '@/components/ui/button'
import { Input } from '@/components/ui/input'
import { Label } from '@/components/ui/label'
import { useAuth } from '@/lib/auth'
import { testEventId } from '@/lib/publish'
import type { ConnectionInfo } from '@/lib/types'

/**
 * Sends one event to one connection (POST /admin/api/connections/{id}/events): it reaches that
 * subscriber only, wherever it is connected, with no topic and no resume position.
 */
export function SendEventButton({
  conn,
  onDone,
}: {
  conn: ConnectionInfo
  onDone(result: { ok: true; text: string } | { ok: false; error: Error }): void
}) {
  const { request } = useAuth()
  const ids = useId()
  const [open, setOpen] = useState(false)
  const [event, setEvent] = useState('notice')
  const [data, setData] = useState('{"text":"hello from the operator"}')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)

  async function send(e: FormEvent) {
    e.preventDefault()
    setBusy(true)
    setError(null)
    const id = testEventId()
    try {
      await request(`/connections/${encodeURIComponent(conn.id)}/events`, {
        method: 'POST',
        headers: {
          'x-sse-id': id,
          ...(event.trim() ? { 'x-sse-event': event.trim() } : {}),
          'content-type': 'text/plain; charset=utf-8',
        },
        body: data,
      })
      setOpen(false)
      onDone({ ok: true, text: `Sent ${id} to ${conn.id}.` })
    } catch (err) {
      setError((err as Error).message)
    } finally {
      setBusy(false)
    }
  }

  return (
    <AlertDialog open={open} onOpenChange={setOpen}>
      <AlertDialogTrigger asChild>
        <Button
          variant="ghost"
          size="sm"
          aria-label={`Send an event to ${conn.id}`}
          title="Send an event to this connection"
        >
          <SendIcon />
        </Button>
      </AlertDialogTrigger>
      <AlertDialogContent>
        <form onSubmit={send} className="grid gap-4">
          <AlertDialogHeader>
            <AlertDialogTitle>Send an event to this connection</AlertDialogTitle>
            <AlertDialogDescription>
              Only <code className="font-mono">{conn.id}</code> receives it, with no topic. It is
              not kept for replay.
            </AlertDialogDescription>
          </AlertDialogHeader>
          <div className="flex flex-col gap-1.5">
            <Label htmlFor={`${ids}-event`}>Event type</Label>
            <Input
              id={`${ids}-event`}
              value={event}
              className="font-mono"
              onChange={(e) => setEvent(e.target.value)}
            />
          </div>
          <div className="flex flex-col gap-1.5">
            <Label htmlFor={`${ids}-data`}>Data</Label>
            <textarea
              id={`${ids}-data`}
              rows={3}
              value={data}
              onChange={(e) => setData(e.target.value)}
              className="w-full rounded-md border border-input bg-card px-3 py-1.5 font-mono text-xs shadow-xs outline-none focus-visible:border-ring focus-visible:ring-[3px] focus-visible:ring-ring/50"
            />
          </div>
          {error && (
            <p className="text-sm text-destructive" role="alert">
              {error}
            </p>
          )}
          <AlertDialogFooter>
            <AlertDialogCancel type="button">Cancel</AlertDialogCancel>
            <Button type="submit" disabled={busy}>
              {busy ? <LoaderCircleIcon className="animate-spin" /> : <SendIcon />}
              Send event
            </Button>
          </AlertDialogFooter>
        </form>
      </AlertDialogContent>
    </AlertDialog>
  )
}
