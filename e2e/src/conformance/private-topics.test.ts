// Private topics (issue #16): the local targets run with PRIVATE_TOPICS=private:*,vip and a
// TOKEN_SECRET (e2e/src/targets/util.ts); every other topic of every suite stays public.
import { SignJWT } from 'jose'
import { expect, it } from 'vitest'
import { admin, eventually, publish } from '../clients/http.ts'
import { SseClient } from '../clients/sse.ts'
import { WsClient } from '../clients/ws.ts'
import { forEachTarget, uniqueTopic } from './harness.ts'

/** A token as any backend mints it: HS256, `topics` granted, `exp` in seconds. */
function mint(secret: string, topics: string[], expSeconds: number): Promise<string> {
  return new SignJWT({ topics })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('user-42')
    .setExpirationTime(Math.floor(Date.now() / 1000) + expSeconds)
    .sign(new TextEncoder().encode(secret))
}

interface ErrorBody {
  error: { code: string; message: string }
}

forEachTarget((target) => {
  const secret = () => target().tokenSecret as string
  const configured = () => target().tokenSecret !== undefined
  const url = () => target().url
  const last = () => target().urls[target().urls.length - 1] as string
  /** A plain GET of /sse: the status and, for a refusal, the JSON error. */
  const refusal = async (path: string, headers: Record<string, string> = {}) => {
    const sub = await SseClient.open(`${url()}${path}`, headers)
    sub.close()
    return {
      status: sub.status,
      body: sub.status === 200 ? undefined : (JSON.parse(sub.body) as ErrorBody),
    }
  }

  it('refuses a private topic without a token (401 naming it), and leaves public topics open', async (ctx) => {
    if (!configured()) ctx.skip()
    const t = `private:${uniqueTopic('p')}`
    const pub = uniqueTopic('public')
    const r = await refusal(`/sse?topic=${pub},${t}`)
    expect(r.status).toBe(401)
    expect(r.body?.error.code).toBe('unauthorized')
    expect(r.body?.error.message).toContain(`"${t}"`)
    expect((await refusal('/sse?topic=vip')).status).toBe(401)
    const open = await SseClient.open(`${url()}/sse?topic=${pub}`)
    expect(open.status).toBe(200)
    open.close()
  })

  it('refuses a bad signature and an expired token (401), a token for another topic (403)', async (ctx) => {
    if (!configured()) ctx.skip()
    const t = `private:${uniqueTopic('p')}`
    const forged = await mint('not-the-secret-but-long-enough-0123456789', [t], 600)
    const bad = await refusal(`/sse?topic=${t}&token=${forged}`)
    expect(bad.status).toBe(401)
    expect(bad.body?.error.message).toMatch(/signature/)
    expect(JSON.stringify(bad.body)).not.toContain(forged)
    const old = await mint(secret(), [t], -60)
    const expired = await refusal(`/sse?topic=${t}&token=${old}`)
    expect(expired.status).toBe(401)
    expect(expired.body?.error.message).toMatch(/expired/)
    const other = await mint(secret(), ['private:someone-else'], 600)
    const forbidden = await refusal(`/sse?topic=${t}&token=${other}`)
    expect(forbidden.status).toBe(403)
    expect(forbidden.body?.error.code).toBe('forbidden')
    expect(forbidden.body?.error.message).toContain(`"${t}"`)
    // WebSocket: the same refusal, before the upgrade.
    const refusedWs = await WsClient.open(
      `${url().replace(/^http/, 'ws')}/ws?topic=${t}&token=${other}`,
    ).then(
      (c) => {
        c.close()
        return 'accepted'
      },
      (err: Error) => err.message,
    )
    expect(refusedWs).toMatch(/^HTTP 403/)
  })

  it('delivers to a subscriber whose token grants the topic by prefix, from each place a token may travel', async (ctx) => {
    if (!configured()) ctx.skip()
    const base = `private:${uniqueTopic('user')}`
    const t = `${base}:inbox`
    const token = await mint(secret(), [`${base}:*`], 600)
    const byQuery = await SseClient.open(`${last()}/sse?topic=${t}&token=${token}`)
    const byHeader = await SseClient.open(`${last()}/sse?topic=${t}`, {
      authorization: `Bearer ${token}`,
    })
    const byCookie = await SseClient.open(`${last()}/sse?topic=${t}`, {
      cookie: `theme=dark; sse_token=${token}`,
    })
    const wsSub = await WsClient.open(
      `${last().replace(/^http/, 'ws')}/ws?topic=${t}&token=${token}`,
    )
    for (const c of [byQuery, byHeader, byCookie]) expect(c.status).toBe(200)
    await wsSub.waitForGatewayEvents(1)
    await publish(url(), target().apiKey, t, 'secret-1', 'for your eyes')
    for (const c of [byQuery, byHeader, byCookie]) {
      const [ev] = await c.waitForEvents(1)
      expect(ev?.data).toBe('for your eyes')
    }
    expect((await wsSub.waitForEvents(1))[0]?.data).toBe('for your eyes')
    for (const c of [byQuery, byHeader, byCookie, wsSub]) c.close()
  })

  it('ends a live stream when its token expires, with gateway.token-expired first', async (ctx) => {
    if (!configured()) ctx.skip()
    const t = `private:${uniqueTopic('exp')}`
    const token = await mint(secret(), [t], 3)
    const sse = await SseClient.open(`${last()}/sse?topic=${t}&token=${token}`)
    const ws = await WsClient.open(`${last().replace(/^http/, 'ws')}/ws?topic=${t}&token=${token}`)
    expect(sse.status).toBe(200)
    await sse.waitForEnd(20_000)
    const expired = sse.gatewayEvents.find((e) => e.event === 'gateway.token-expired')
    expect(expired, JSON.stringify(sse.gatewayEvents)).toBeDefined()
    const data = JSON.parse(expired?.data ?? '{}') as { topics: string[]; expiredAt: string }
    expect(data.topics).toEqual([t])
    expect(Number.isNaN(Date.parse(data.expiredAt))).toBe(false)
    await ws.until(() => ws.closed, 20_000, 'the WebSocket to close')
    expect(ws.gatewayEvents.map((e) => e.event)).toContain('gateway.token-expired')
    expect(ws.closeCode).toBe(1008)
    // A reconnect with the expired token is refused: the client must fetch a fresh one.
    expect((await refusal(`/sse?topic=${t}&token=${token}`)).status).toBe(401)
  })

  it('counts refused subscriptions in the stats', async (ctx) => {
    if (!configured()) ctx.skip()
    const before = (await admin<{ subscriptionsRefused: number }>(url(), target().apiKey, '/stats'))
      .body.subscriptionsRefused
    await refusal('/sse?topic=vip')
    await eventually(
      async () =>
        (await admin<{ subscriptionsRefused: number }>(url(), target().apiKey, '/stats')).body
          .subscriptionsRefused > before,
      15_000,
      'subscriptionsRefused to grow',
    )
  })
})
