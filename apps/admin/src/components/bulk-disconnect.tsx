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
import { count } from '@/lib/format'

/**
 * Disconnects every connection the current filter lists (DELETE /admin/api/connections?…),
 * after a confirmation that names the filter. With no filter it says "all" and sends all=true.
 */
export function BulkDisconnect({
  query,
  describe,
  onDone,
}: {
  /** The filter as query parameters (empty: every connection). */
  query: URLSearchParams
  /** The filter in words, for the confirmation. */
  describe: string
  onDone(result: { ok: true; text: string } | { ok: false; error: Error }): void
}) {
  const { request } = useAuth()
  const [busy, setBusy] = useState(false)
  const everything = [...query.keys()].length === 0
  const label = everything ? 'Disconnect all connections' : 'Disconnect all matching'

  async function run() {
    setBusy(true)
    try {
      const q = new URLSearchParams(query)
      if (everything) q.set('all', 'true')
      const r = await request<{ matched: number; disconnected: number }>(`/connections?${q}`, {
        method: 'DELETE',
      })
      onDone({
        ok: true,
        text: `Disconnected ${count(r.disconnected)} of ${count(r.matched)} matching ${r.matched === 1 ? 'connection' : 'connections'}.`,
      })
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
          variant="outline"
          disabled={busy}
          className="text-destructive hover:bg-destructive/10 hover:text-destructive"
        >
          {busy ? <LoaderCircleIcon className="animate-spin" /> : <UnplugIcon />}
          {label}
        </Button>
      </AlertDialogTrigger>
      <AlertDialogContent>
        <AlertDialogHeader>
          <AlertDialogTitle>
            {everything ? 'Disconnect every connection?' : 'Disconnect every matching connection?'}
          </AlertDialogTitle>
          <AlertDialogDescription>
            The gateway closes{' '}
            {everything ? 'every live connection' : `every connection ${describe}`}, on every node,
            including those not on this page. Clients that reconnect by themselves come back as new
            connections and resume from their last event.
          </AlertDialogDescription>
        </AlertDialogHeader>
        <AlertDialogFooter>
          <AlertDialogCancel>Cancel</AlertDialogCancel>
          <AlertDialogAction onClick={run}>
            {everything ? 'Disconnect all' : 'Disconnect matching'}
          </AlertDialogAction>
        </AlertDialogFooter>
      </AlertDialogContent>
    </AlertDialog>
  )
}
