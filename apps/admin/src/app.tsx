import { ActivityIcon, HashIcon, LogOutIcon, RadioTowerIcon, UsersIcon } from 'lucide-react'
import { Button } from '@/components/ui/button'
import { Tabs, TabsContent, TabsList, TabsTrigger } from '@/components/ui/tabs'
import { AuthProvider, useAuth } from '@/lib/auth'
import { navigate, type Tab, useRoute } from '@/lib/route'
import { ConnectionsView } from '@/views/connections-view'
import { LoginView } from '@/views/login-view'
import { TailView } from '@/views/tail-view'
import { TopicsView } from '@/views/topics-view'

function Shell() {
  const { logout } = useAuth()
  const route = useRoute()

  // The chosen topic follows the user between Connections and Tail; Topics lists them all.
  const select = (tab: string) =>
    navigate({ tab: tab as Tab, topic: tab === 'topics' ? '' : route.topic })

  return (
    <div className="min-h-svh">
      <header className="sticky top-0 z-10 border-b bg-card/90 backdrop-blur">
        <div className="mx-auto flex h-14 max-w-6xl items-center gap-3 px-4">
          <RadioTowerIcon className="size-5 shrink-0" />
          <div className="flex min-w-0 items-baseline gap-2">
            <span className="font-semibold whitespace-nowrap">SSE Gateway</span>
            <span className="truncate text-sm text-muted-foreground">{location.host}</span>
          </div>
          <Button variant="ghost" size="sm" className="ml-auto" onClick={() => logout()}>
            <LogOutIcon /> Sign out
          </Button>
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
  return key ? <Shell /> : <LoginView />
}

export function App() {
  return (
    <AuthProvider>
      <Gate />
    </AuthProvider>
  )
}
