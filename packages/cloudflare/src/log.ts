import type { Logger } from '@sse-gateway/core'

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']

/**
 * One JSON object a line on the console, which Workers Logs and `wrangler tail` collect (pino's
 * shape: level, time, msg, fields). Keys and bodies are never passed here.
 */
export function createLogger(level: string, base: Record<string, unknown> = {}): Logger {
  const min = LEVELS.indexOf(level)
  const emit = (name: string, obj: object, msg?: string) => {
    if (LEVELS.indexOf(name) < min) return
    const fields: Record<string, unknown> = { level: name, time: Date.now(), ...base }
    for (const [k, v] of Object.entries(obj)) {
      fields[k] = v instanceof Error ? { message: v.message, name: v.name } : v
    }
    if (msg !== undefined) fields.msg = msg
    const line = JSON.stringify(fields)
    if (name === 'error' || name === 'fatal') console.error(line)
    else if (name === 'warn') console.warn(line)
    else console.log(line)
  }
  return {
    debug: (obj, msg) => emit('debug', obj, msg),
    info: (obj, msg) => emit('info', obj, msg),
    warn: (obj, msg) => emit('warn', obj, msg),
    error: (obj, msg) => emit('error', obj, msg),
  }
}
