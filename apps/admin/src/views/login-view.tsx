import { AlertCircleIcon, KeyRoundIcon, LoaderCircleIcon, RadioTowerIcon } from 'lucide-react'
import { type FormEvent, useId, useState } from 'react'
import { Alert, AlertDescription, AlertTitle } from '@/components/ui/alert'
import { Button } from '@/components/ui/button'
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from '@/components/ui/card'
import { Input } from '@/components/ui/input'
import { Label } from '@/components/ui/label'
import { ApiError, apiRequest } from '@/lib/api'
import { useAuth } from '@/lib/auth'

/** Sign in with one of the gateway's API keys; the key is checked against the API before use. */
export function LoginView() {
  const { login, notice } = useAuth()
  const [key, setKey] = useState('')
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const inputId = useId()

  async function submit(e: FormEvent) {
    e.preventDefault()
    const k = key.trim()
    if (!k) return setError('Enter an API key.')
    setBusy(true)
    setError(null)
    try {
      await apiRequest(k, '/stats')
      login(k)
    } catch (err) {
      setError(
        err instanceof ApiError && err.status === 401
          ? 'The gateway refused this key. Use one of the keys in its API_KEYS setting.'
          : `Could not sign in: ${(err as Error).message}`,
      )
    } finally {
      setBusy(false)
    }
  }

  return (
    <main className="flex min-h-svh items-center justify-center p-4">
      <div className="flex w-full max-w-sm flex-col gap-6">
        <div className="flex items-center justify-center gap-2 text-lg font-semibold">
          <RadioTowerIcon className="size-5" /> SSE Gateway
        </div>
        <Card>
          <CardHeader>
            <CardTitle className="text-xl">Sign in</CardTitle>
            <CardDescription>
              Use a publisher key of this gateway (the <code>API_KEYS</code> setting). It stays in
              this browser until you sign out.
            </CardDescription>
          </CardHeader>
          <CardContent>
            <form onSubmit={submit} className="flex flex-col gap-4" noValidate>
              {notice && !error && (
                <Alert>
                  <KeyRoundIcon />
                  <AlertTitle>Signed out</AlertTitle>
                  <AlertDescription>{notice}</AlertDescription>
                </Alert>
              )}
              <div className="flex flex-col gap-2">
                <Label htmlFor={inputId}>API key</Label>
                <Input
                  id={inputId}
                  type="password"
                  autoComplete="current-password"
                  autoFocus
                  value={key}
                  aria-invalid={error ? true : undefined}
                  onChange={(e) => setKey(e.target.value)}
                />
              </div>
              {error && (
                <Alert variant="destructive" data-testid="login-error">
                  <AlertCircleIcon />
                  <AlertTitle>Not signed in</AlertTitle>
                  <AlertDescription>{error}</AlertDescription>
                </Alert>
              )}
              <Button type="submit" disabled={busy} className="w-full">
                {busy && <LoaderCircleIcon className="animate-spin" />}
                Sign in
              </Button>
            </form>
          </CardContent>
        </Card>
      </div>
    </main>
  )
}
