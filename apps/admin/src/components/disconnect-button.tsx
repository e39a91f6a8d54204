import { LoaderCircleIcon, UnplugIcon } from 'lucide-react'
import { useState } from 'react'
import {
  AlertDialog,
  AlertDialogAction,
  AlertDialogCancel,
  AlertDialogContent,
  AlertDialogDescription,
  AlertDialogFooter,
  AlertDialogHeader,
  AlertDialogTitle,
  AlertDialogTrigger,
} from '@/components/ui/alert-dialog'
import { Button } from '@/components/ui/button'
import { useAuth } from '@/lib/auth'
import type { ConnectionInfo } from '@/lib/types'

/** Disconnect, after a confirmation that says what the subscriber will see. */
export function DisconnectButton({
  conn,
  onDone,
}: {
  conn: ConnectionInfo
  onDone(result: { ok: true } | { ok: false; error: Error }): void
}) {
  const { request } = useAuth()
  const [busy, setBusy] = useState(false)

  async function disconnect() {
    setBusy(true)
    try {
      await request(`/connections/${encodeURIComponent(conn.id)}`, { method: 'DELETE' })
      onDone({ ok: true })
    } catch (err) {
      onDone({ ok: false, error: err as Error })
    } finally {
      setBusy(false)
    }
  }

  return (
    <AlertDialog>
      <AlertDialogTrigger asChild>
        <Button
          variant="ghost"
          size="sm"
          disabled={busy}
          aria-label={`Disconnect ${conn.id}`}
          className="text-destructive hover:bg-destructive/10 hover:text-destructive"
        >
          {busy ? <LoaderCircleIcon className="animate-spin" /> : <UnplugIcon />}
          Disconnect
        </Button>
      </AlertDialogTrigger>
      <AlertDialogContent>
        <AlertDialogHeader>
          <AlertDialogTitle>Disconnect this subscriber?</AlertDialogTitle>
          <AlertDialogDescription>
            The gateway closes connection <code className="font-mono">{conn.id}</code> (
            {conn.transport.toUpperCase()}, {conn.topics.join(', ')}). A client that reconnects by
            itself, like a browser's EventSource, comes back as a new connection.
          </AlertDialogDescription>
        </AlertDialogHeader>
        <AlertDialogFooter>
          <AlertDialogCancel>Cancel</AlertDialogCancel>
          <AlertDialogAction onClick={disconnect}>Disconnect</AlertDialogAction>
        </AlertDialogFooter>
      </AlertDialogContent>
    </AlertDialog>
  )
}
