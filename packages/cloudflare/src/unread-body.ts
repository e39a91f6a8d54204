/**
 * What the Worker does with a request body it did not read (a dropped publish, a refused one):
 * - `leave` (the default, production): nothing. The platform discards it; the drop path never
 *   touches the body.
 * - `drain` (`make cf-dev`: the `Gateway` entrypoint of worker.ts): the answer goes out as it
 *   is, and a body of up to 1 MiB is read whole and thrown away in the background; a longer or
 *   chunked one is held as below. workerd's own HTTP server, which serves the client directly
 *   there, closes a keep-alive connection whose request body was left unread (the client would
 *   pay a new connection for every drop), and resets it when the answer is complete while much
 *   of the body is still arriving (the client can lose the answer).
 * - `hold` (`UNREAD_BODY=hold`, for `wrangler dev`): the answer is sent in full at once, but its
 *   stream ends only once the body has been read and thrown away. Under `wrangler dev` the
 *   request passes a proxy that stops forwarding the body once the Worker's response is
 *   complete; the unread rest then blocks every later request on that connection
 *   (workers-sdk#5095, which wrangler's own fix solves by reading the whole body *before*
 *   answering, which the drop path must not do).
 * Waiting in `waitUntil` is bounded by the runtime (30 s after the response).
 */
export type UnreadBody = 'leave' | 'drain' | 'hold'

/** The mode named by the `UNREAD_BODY` var (default `leave`); anything else is an error naming it. */
export function unreadBodyMode(raw: string | undefined): UnreadBody {
  const v = raw?.trim() || 'leave'
  if (v === 'leave' || v === 'drain' || v === 'hold') return v
  throw new Error(`UNREAD_BODY=${JSON.stringify(raw)} is invalid: expected leave, drain or hold`)
}

/** Largest declared body read whole (one native read, no JavaScript per chunk) to discard it. */
const READ_WHOLE_BYTES = 1_048_576

/** The body's declared length (NaN when it is chunked). */
function declaredBytes(req: Request): number {
  return Number(req.headers.get('content-length') ?? Number.NaN)
}

/** Reads and forgets a request body nobody used; a client going away ends it too. */
function discard(req: Request): Promise<void> {
  const done = () => {}
  if (declaredBytes(req) <= READ_WHOLE_BYTES) return req.arrayBuffer().then(done, done)
  return (req.body as ReadableStream).pipeTo(new WritableStream()).then(done, done)
}

/** Answers a request whose body the gateway did not read; see UnreadBody for how. */
export async function answerBeforeBody(
  req: Request,
  res: Response,
  ctx: ExecutionContext,
  mode: UnreadBody,
): Promise<Response> {
  if (mode === 'leave' || req.body === null || req.bodyUsed || res.status === 101) return res
  if (mode === 'drain' && declaredBytes(req) <= READ_WHOLE_BYTES) {
    ctx.waitUntil(discard(req))
    return res
  }
  // Only small JSON answers are held back this way, never a stream.
  if (res.body === null || !res.headers.get('content-type')?.startsWith('application/json'))
    return res
  const bytes = new Uint8Array(await res.arrayBuffer())
  const { readable, writable } = new FixedLengthStream(bytes.byteLength)
  const writer = writable.getWriter()
  writer.write(bytes).catch(() => {})
  ctx.waitUntil(discard(req).finally(() => writer.close().catch(() => {})))
  return new Response(readable, { status: res.status, headers: res.headers })
}
