/** Reads and forgets a request body nobody used. */
async function discard(body: ReadableStream<Uint8Array>): Promise<void> {
  try {
    const reader = body.getReader()
    while (!(await reader.read()).done) {}
  } catch {
    // The client went away: nothing left to discard.
  }
}

/**
 * Answers at once a request whose body the gateway did not read (a dropped publish, a refused
 * one), then discards that body in the background, so the client's keep-alive connection stays
 * usable for its next request.
 *
 * Why the response is held open: under `wrangler dev` the request passes a proxy that stops
 * forwarding the body once the Worker's response is complete; the unread rest then blocks
 * every later request on that connection (workers-sdk#5095, which wrangler's own fix solves by
 * reading the whole body *before* answering, which the drop path must not do). So the JSON
 * answer is sent in full at once (its Content-Length is known), and the response stream ends
 * only after the body has been discarded. Waiting in `waitUntil` is bounded by the runtime
 * (30 s after the response).
 */
export async function answerBeforeBody(
  req: Request,
  res: Response,
  ctx: ExecutionContext,
): Promise<Response> {
  if (req.body === null || req.bodyUsed || res.status === 101 || res.body === null) return res
  // Only small JSON answers are held back this way, never a stream.
  if (!res.headers.get('content-type')?.startsWith('application/json')) return res
  const bytes = new Uint8Array(await res.arrayBuffer())
  const { readable, writable } = new FixedLengthStream(bytes.byteLength)
  const writer = writable.getWriter()
  writer.write(bytes).catch(() => {})
  ctx.waitUntil(discard(req.body).finally(() => writer.close().catch(() => {})))
  return new Response(readable, { status: res.status, headers: res.headers })
}
