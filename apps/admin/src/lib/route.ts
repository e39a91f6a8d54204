import { useEffect, useState } from 'react'

export type Tab = 'topics' | 'connections' | 'tail'
export interface Route {
  tab: Tab
  /** The chosen topic (connections filter, tail topic), from `?topic=`. */
  topic: string
}

const BASE = import.meta.env.BASE_URL // '/admin/'
const TABS: readonly Tab[] = ['topics', 'connections', 'tail']

/**
 * The tab and topic live in the URL (/admin/connections?topic=x), so a reload or a shared link
 * lands on the same view; the gateway answers deep links with index.html.
 */
function parse(): Route {
  const rest = location.pathname.startsWith(BASE) ? location.pathname.slice(BASE.length) : ''
  const name = rest.split('/')[0] as Tab
  const tab = TABS.includes(name) ? name : 'topics'
  return { tab, topic: new URLSearchParams(location.search).get('topic') ?? '' }
}

export function hrefOf(r: Route): string {
  return `${BASE}${r.tab}${r.topic ? `?topic=${encodeURIComponent(r.topic)}` : ''}`
}

export function navigate(r: Route, replace = false): void {
  const href = hrefOf(r)
  if (href === location.pathname + location.search) return
  if (replace) history.replaceState(null, '', href)
  else history.pushState(null, '', href)
  dispatchEvent(new PopStateEvent('popstate'))
}

export function useRoute(): Route {
  const [route, setRoute] = useState(parse)
  useEffect(() => {
    const onPop = () => setRoute(parse())
    addEventListener('popstate', onPop)
    return () => removeEventListener('popstate', onPop)
  }, [])
  return route
}
