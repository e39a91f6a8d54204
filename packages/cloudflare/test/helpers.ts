/** Reads a text stream until `pred` holds for what was read, or fails after `timeoutMs`. */
export async function readUntil(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  pred: (text: string) => boolean,
  timeoutMs = 5_000,
): Promise<string> {
  const decoder = new TextDecoder()
  let text = ''
  const deadline = Date.now() + timeoutMs
  while (!pred(text)) {
    const left = deadline - Date.now()
    if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms; read ${JSON.stringify(text)}`)
    let timer = 0 as unknown as ReturnType<typeof setTimeout>
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out; read ${JSON.stringify(text)}`)), left)
    })
    const { done, value } = await Promise.race([reader.read(), timeout]).finally(() =>
      clearTimeout(timer),
    )
    if (done) break
    text += decoder.decode(value, { stream: true })
  }
  return text
}

/** Polls `check` until it returns true, or fails after `timeoutMs` naming `what`. */
export async function eventually(
  check: () => Promise<boolean>,
  what: string,
  timeoutMs = 5_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await check()) return
    await new Promise((r) => setTimeout(r, 25))
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
}

/** Collects the messages of an accepted client WebSocket. */
export function collect(ws: WebSocket): { messages: string[]; wait(n: number): Promise<string[]> } {
  const messages: string[] = []
  ws.addEventListener('message', (e) => messages.push(String(e.data)))
  return {
    messages,
    async wait(n) {
      await eventually(async () => messages.length >= n, `${n} WebSocket messages`)
      return messages.slice(0, n)
    },
  }
}

/** One SSE frame as a client reads it (a comment has only `comment`). */
export interface Frame {
  id?: string
  event?: string
  topic?: string
  data?: string
  comment?: string
}

/** Splits event-stream text into its frames (complete ones only). */
export function frames(text: string): Frame[] {
  const out: Frame[] = []
  for (const block of text.split('\n\n').slice(0, -1)) {
    const f: Frame = {}
    for (const line of block.split('\n')) {
      if (line.startsWith(': ')) f.comment = line.slice(2)
      const m = /^(id|event|topic|data): ?(.*)$/.exec(line)
      if (!m) continue
      const key = m[1] as 'id' | 'event' | 'topic' | 'data'
      f[key] = key === 'data' && f.data !== undefined ? `${f.data}\n${m[2]}` : m[2]
    }
    out.push(f)
  }
  return out
}

/** The event frames of `text` (comments left out). */
export const events = (text: string): Frame[] => frames(text).filter((f) => f.comment === undefined)

/** An SSE response read as it arrives: `until` waits for a condition on every frame so far. */
export function sseClient(res: Response) {
  const reader = (res.body as ReadableStream<Uint8Array>).getReader()
  const decoder = new TextDecoder()
  const client = {
    id: res.headers.get('x-sse-connection-id') ?? '',
    text: '',
    reader,
    frames: () => frames(client.text),
    events: () => events(client.text),
    async until(pred: (events: Frame[]) => boolean, what: string, timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs
      while (!pred(client.events())) {
        const left = deadline - Date.now()
        if (left <= 0)
          throw new Error(`timed out waiting for ${what}; read ${JSON.stringify(client.text)}`)
        let timer = 0 as unknown as ReturnType<typeof setTimeout>
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(
                new Error(`timed out waiting for ${what}; read ${JSON.stringify(client.text)}`),
              ),
            left,
          )
        })
        const { done, value } = await Promise.race([reader.read(), timeout]).finally(() =>
          clearTimeout(timer),
        )
        if (done)
          throw new Error(`stream ended waiting for ${what}; read ${JSON.stringify(client.text)}`)
        client.text += decoder.decode(value, { stream: true })
      }
      return client.events()
    },
    close: () => reader.cancel(),
  }
  return client
}
