import { ApiError, authHeaders, errorOf } from './api'

/** `/publish` lives at the gateway's root, beside /admin/. */
const PUBLISH_URL = `${import.meta.env.BASE_URL.replace(/admin\/$/, '')}publish`

export interface PublishAnswer {
  id: string
  delivered: string[]
  dropped: string[]
}

/** Publishes one event with the admin key (it is a publisher key too): what an app does. */
export async function publishEvent(
  key: string,
  ev: { topic: string; id: string; event?: string; data: string },
): Promise<PublishAnswer> {
  let res: Response
  try {
    res = await fetch(PUBLISH_URL, {
      method: 'POST',
      headers: {
        ...authHeaders(key),
        'x-sse-topic': ev.topic,
        'x-sse-id': ev.id,
        ...(ev.event ? { 'x-sse-event': ev.event } : {}),
        'content-type': 'text/plain; charset=utf-8',
      },
      body: ev.data,
    })
  } catch {
    throw new ApiError(0, `cannot reach the gateway at ${location.host}`)
  }
  if (!res.ok) throw await errorOf(res)
  return (await res.json()) as PublishAnswer
}

/** An id for a test event: says what it is, and sorts by time. */
export function testEventId(): string {
  return `test-${Date.now().toString(36)}`
}
