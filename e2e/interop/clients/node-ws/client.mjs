// Interop client: the npm `ws` package with its defaults. WebSocket has no reconnect of its own:
// like any user, it reconnects in a loop, resuming with the cursor of the last frame it received.
// Prints one JSON line per text frame; see e2e/interop/README.md.
import WebSocket from 'ws'

const print = (o) => process.stdout.write(`${JSON.stringify(o)}\n`)
const url = process.env.INTEROP_URL
let cursor
let socket
let stopping = false

function connect() {
  socket = new WebSocket(cursor ? `${url}&lastEventId=${encodeURIComponent(cursor)}` : url)
  socket.on('message', (data) => {
    const frame = data.toString('utf8')
    print({ frame })
    try {
      const c = JSON.parse(frame).cursor
      if (typeof c === 'string') cursor = c
    } catch {}
  })
  socket.on('error', (err) => print({ error: err.message }))
  socket.on('close', (code, reason) => {
    if (stopping) return
    print({ error: `closed ${code} ${reason}; reconnecting` })
    setTimeout(connect, 500)
  })
}
connect()

const quit = () => {
  stopping = true
  socket.terminate()
  process.exit(0)
}
process.stdin.on('end', quit).resume()
process.on('SIGTERM', quit)
