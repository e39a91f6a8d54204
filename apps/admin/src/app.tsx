import {
  ActivityIcon,
  BookOpenIcon,
  HashIcon,
  LogOutIcon,
  RadioTowerIcon,
  UsersIcon,
} from 'lucide-react'
import { LiveControl } from '@/components/live-control'
import { Badge } from '@/components/ui/badge'
import { Button } from '@/components/ui/button'
import { Tabs, TabsContent, TabsList, TabsTrigger } from '@/components/ui/tabs'
import { AuthProvider, useAuth } from '@/lib/auth'
import { dateTime, uptime } from '@/lib/format'
import { LiveProvider, useLive } from '@/lib/live'
import { navigate, type Tab, useRoute } from '@/lib/route'
import type { GatewayInfo } from '@/lib/types'
import { useLoad } from '@/lib/use-load'
import { ConnectionsView } from '@/views/connections-view'
import { LoginView } from '@/views/login-view'
import { TailView } from '@/views/tail-view'
import { TopicsView } from '@/views/topics-view'

const RUNTIME: Record<GatewayInfo['runtime'], string> = {
  node: 'Node · single node',
  cluster: 'Node · cluster',
  cloudflare: 'Cloudflare',
}

/** Version, runtime and uptime of the gateway answering (GET /admin/api/info), and the docs. */
function About() {
  const { request } = useAuth()
  const { tick } = useLive()
  const info = useLoad((signal) => request<GatewayInfo>('/info', { signal }), [request])
  const i = info.data
  // tick re-renders the uptime without another request
  void tick
  if (!i) return null
  return (
    <div
      className="flex min-w-0 flex-wrap items-center gap-x-2 gap-y-1 text-xs"
      data-testid="about"
    >
      <Badge variant="outline" className="font-mono" data-testid="version">
        v{i.version}
      </Badge>
      <Badge variant="secondary" data-testid="runtime" data-runtime={i.runtime}>
        {RUNTIME[i.runtime] ?? i.runtime}
      </Badge>
      {i.startedAt && (
        <span className="text-muted-foreground" title={`Started ${dateTime(i.startedAt)}`}>
          up {uptime(i.startedAt)}
        </span>
      )}
      {i.docs && (
        <a
          href={i.docs}
          target="_blank"
          rel="noreferrer"
          className="inline-flex items-center gap-1 underline underline-offset-2"
        >
          <BookOpenIcon className="size-3.5" aria-hidden="true" /> Docs
        </a>
      )}
    </div>
  )
}

function Shell() {
  const { logout } = useAuth()
  const route = useRoute()

  // The chosen topic follows the user between Connections and Tail; Topics lists them all.
  const select = (tab: string) =>
    navigate({ tab: tab as Tab, topic: tab === 'topics' ? '' : route.topic })

  return (
    <div className="min-h-svh">
      <header className="sticky top-0 z-10 border-b bg-card/90 backdrop-blur">
        <div className="mx-auto flex max-w-6xl flex-wrap items-center gap-x-3 gap-y-2 px-4 py-2.5">
          <RadioTowerIcon className="size-5 shrink-0" aria-hidden="true" />
          <div className="flex min-w-0 items-baseline gap-2">
            <h1 className="font-semibold whitespace-nowrap">SSE Gateway</h1>
            <span className="truncate text-sm text-muted-foreground">{location.host}</span>
          </div>
          <div className="ml-auto flex items-center gap-2">
            <LiveControl />
            <Button variant="ghost" size="sm" onClick={() => logout()}>
              <LogOutIcon /> Sign out
            </Button>
          </div>
          <div className="w-full">
            <About />
          </div>
        </div>
      </header>
      <main className="mx-auto max-w-6xl px-4 py-5">
        <Tabs value={route.tab} onValueChange={select}>
          <TabsList className="w-full sm:w-fit">
            <TabsTrigger value="topics">
              <HashIcon className="hidden sm:block" /> Topics
            </TabsTrigger>
            <TabsTrigger value="connections">
              <UsersIcon className="hidden sm:block" /> Connections
            </TabsTrigger>
            <TabsTrigger value="tail">
              <ActivityIcon className="hidden sm:block" /> Tail Events
            </TabsTrigger>
          </TabsList>
          <TabsContent value="topics">
            <TopicsView />
          </TabsContent>
          <TabsContent value="connections">
            <ConnectionsView topic={route.topic} />
          </TabsContent>
          <TabsContent value="tail">
            <TailView topic={route.topic} />
          </TabsContent>
        </Tabs>
      </main>
    </div>
  )
}

function Gate() {
  const { key } = useAuth()
  return key ? (
    <LiveProvider>
      <Shell />
    </LiveProvider>
  ) : (
    <LoginView />
  )
}

export function App() {
  return (
    <AuthProvider>
      <Gate />
    </AuthProvider>
  )
}
