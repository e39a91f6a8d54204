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
