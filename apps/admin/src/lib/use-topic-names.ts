import { useEffect, useState } from 'react'
import { useAuth } from './auth'
import type { PageBody, TopicInfo } from './types'

/** Names of the live topics (first page of 500), to suggest in topic fields. Best effort. */
export function useTopicNames(): string[] {
  const { request } = useAuth()
  const [names, setNames] = useState<string[]>([])
  useEffect(() => {
    const ctl = new AbortController()
    request<PageBody<TopicInfo>>('/topics?limit=500', { signal: ctl.signal }).then(
      (p) => setNames(p.items.map((t) => t.topic)),
      () => {}, // suggestions are optional; the views show their own errors
    )
    return () => ctl.abort()
  }, [request])
  return names
}
