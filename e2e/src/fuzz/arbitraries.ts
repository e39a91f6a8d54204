/**
 * Generators of hostile input. Header values are strings of byte-chars (what goes on the wire,
 * one char per byte): valid names, near misses (one bad character, one too long), separators,
 * UTF-8 and lone high bytes, so both the valid and the refused paths are walked often.
 */
import fc from 'fast-check'
import type { KeyStyle, PublishInput } from './model.ts'

const NAME_CHARS = 'ABCxyz019-_.:@/'.split('')
/** Characters a careless or hostile client puts in a header (byte-chars; 0x7f and controls aside). */
const ODD_CHARS = [
  ' ',
  '\t',
  ',',
  '%',
  '"',
  '\\',
  '~',
  '*',
  '#',
  '?',
  '&',
  '=',
  '+',
  ';',
  '<',
  '\xa0',
  '\xe9',
  '\xff',
  '\x80',
]
/** `é` as UTF-8 bytes. */
const UTF8_E = '\xc3\xa9'

const nameChar = fc.constantFrom(...NAME_CHARS)
export const validName = fc.oneof(
  { weight: 8, arbitrary: fc.string({ unit: nameChar, minLength: 1, maxLength: 12 }) },
  { weight: 1, arbitrary: fc.constant('n'.repeat(128)) },
)
const nearMiss = fc.oneof(
  fc.constant('n'.repeat(129)),
  fc
    .tuple(
      fc.string({ unit: nameChar, maxLength: 6 }),
      fc.constantFrom(...ODD_CHARS, UTF8_E),
      fc.string({ unit: nameChar, maxLength: 6 }),
    )
    .map(([a, b, c]) => a + b + c),
)

/** A header value: mostly names, sometimes near misses, padded with spaces or tabs. */
function headerValue(live: readonly string[]) {
  return fc
    .tuple(
      fc.constantFrom('', ' ', '\t', '  '),
      fc.oneof(
        { weight: 4, arbitrary: validName },
        { weight: 2, arbitrary: fc.constantFrom(...live) },
        { weight: 2, arbitrary: nearMiss },
      ),
      fc.constantFrom('', ' ', '\t', '\xa0'),
    )
    .map(([a, b, c]) => a + b + c)
}

/** A topic list: names, live topics, near misses, empty items, duplicates; sometimes too many. */
export function topicList(live: readonly string[]) {
  const item = headerValue(live)
  return fc.oneof(
    {
      weight: 12,
      arbitrary: fc.array(item, { minLength: 0, maxLength: 5 }).map((xs) => xs.join(',')),
    },
    {
      weight: 1,
      arbitrary: fc.constant(Array.from({ length: 65 }, (_, i) => `many-${i}`).join(',')),
    },
    {
      weight: 1,
      arbitrary: fc.constant(
        `${live[0]},${Array.from({ length: 63 }, (_, i) => `x${i}`).join(',')}`,
      ),
    },
  )
}

/** Bytes that print short in a counterexample (a 1 MiB body would flood the report). */
function printable(bytes: Uint8Array): Uint8Array {
  const head = Buffer.from(bytes.subarray(0, 48)).toString('latin1')
  return Object.assign(bytes, {
    [fc.toStringMethod]: () =>
      `bytes(${bytes.byteLength}: ${JSON.stringify(head)}${bytes.byteLength > 48 ? '…' : ''})`,
  })
}

const bodyBytesRaw = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .string({ unit: 'grapheme', maxLength: 60 })
      .map((s) => new TextEncoder().encode(s)),
  },
  {
    weight: 3,
    arbitrary: fc.string({ unit: 'binary', maxLength: 60 }).map((s) => new TextEncoder().encode(s)),
  },
  {
    weight: 2,
    arbitrary: fc
      .constantFrom('a\r\nb', 'a\rb\n', '\n', '', 'data: x\n\nid: y', '\ufeffbom', ': comment')
      .map((s) => new TextEncoder().encode(s)),
  },
  { weight: 3, arbitrary: fc.uint8Array({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.constant(new Uint8Array(1_048_577).fill(0x61)) },
  { weight: 1, arbitrary: fc.constant(new Uint8Array(1_048_576).fill(0x62)) },
)

/** Harmless extra headers: token names (never hop-by-hop or the contract's own), odd values. */
const extraHeaders = fc.dictionary(
  fc.constantFrom(
    'x-trace',
    'x-forwarded-for',
    'accept',
    'content-type',
    'user-agent',
    'x-sse-topics',
    'x-sse',
    'last-event-id',
    'cookie',
    'x-empty',
  ),
  fc.string({
    unit: fc.constantFrom(...NAME_CHARS, ...ODD_CHARS.filter((c) => c !== '\t')),
    maxLength: 20,
  }),
  { maxKeys: 3 },
)

const bodyBytes = bodyBytesRaw.map(printable)

export function publishInput(live: readonly string[], nodes: number): fc.Arbitrary<PublishInput> {
  return fc.record({
    key: fc.constantFrom<KeyStyle>(
      'bearer',
      'bearer',
      'bearer',
      'bearer-lowercase',
      'x-api-key',
      'wrong',
      'missing',
    ),
    topics: fc.option(topicList(live), { nil: undefined, freq: 20 }),
    id: fc.option(headerValue(['id-1']), { nil: undefined, freq: 15 }),
    event: fc.option(
      fc.oneof(
        headerValue(['note']),
        fc.constantFrom('gateway.connected', 'gateway.x', ' gateway.gap', 'Gateway.gap'),
      ),
      { nil: undefined, freq: 2 },
    ),
    body: bodyBytes,
    extra: extraHeaders,
    node: fc.nat({ max: nodes - 1 }),
  })
}

export interface SubscribeInput {
  transport: 'sse' | 'ws'
  /** In `?topic=` (percent-encoded) or `x-sse-topic` (bytes). */
  topicIn: 'query' | 'header'
  topics: string
  envelope: string | undefined
  /** A `Last-Event-ID` (SSE) or `?lastEventId=`; built from a real cursor when `mutate` is set. */
  lastEventId: string | undefined
  lastEventIdIn: 'header' | 'query'
  node: number
}

/** Mutations of a real cursor: truncated, a digit changed, an item repeated, an epoch swapped. */
export function mutateCursor(cursor: string) {
  return fc.oneof(
    fc.nat({ max: cursor.length }).map((n) => cursor.slice(0, n)),
    fc
      .tuple(
        fc.nat({ max: Math.max(0, cursor.length - 1) }),
        fc.constantFrom('0', 'z', '.', '-', '~', '9'),
      )
      .map(([i, c]) => cursor.slice(0, i) + c + cursor.slice(i + 1)),
    fc.constant(`${cursor}.${cursor.split('.')[1] ?? ''}`),
    fc.constant(cursor.replace(/-([0-9a-z]+)-/, '-zzzz-')),
    fc.constant(`pub-9~${cursor}`),
    fc.constant(`~${cursor}`),
    fc.constant(cursor.replace(/^1/, '2')),
    fc.constant(cursor.replace(/-(\d+)$/, '-999999999999')),
  )
}

export function subscribeInput(
  live: readonly string[],
  cursors: readonly string[],
  nodes: number,
): fc.Arbitrary<SubscribeInput> {
  const cursor =
    cursors.length > 0 ? fc.constantFrom(...cursors).chain(mutateCursor) : fc.constant('1')
  return fc.record({
    transport: fc.constantFrom<'sse' | 'ws'>('sse', 'sse', 'ws'),
    topicIn: fc.constantFrom<'query' | 'header'>('query', 'header'),
    topics: topicList(live),
    envelope: fc.option(fc.constantFrom('json', 'none', 'JSON', 'xml', ''), {
      nil: undefined,
      freq: 3,
    }),
    lastEventId: fc.option(
      fc.oneof(
        { weight: 4, arbitrary: cursor },
        {
          weight: 2,
          arbitrary: fc.string({
            unit: fc.constantFrom(...NAME_CHARS, '~', '.', '-', ' ', '\xe9'),
            maxLength: 40,
          }),
        },
        { weight: 1, arbitrary: fc.constant('x'.repeat(5000)) },
      ),
      { nil: undefined, freq: 3 },
    ),
    lastEventIdIn: fc.constantFrom<'header' | 'query'>('header', 'query'),
    node: fc.nat({ max: nodes - 1 }),
  })
}

export interface AdminInput {
  path: string
  method: 'GET' | 'DELETE'
  key: boolean
  node: number
}

const queryValue = fc.oneof(
  fc.constantFrom(
    '',
    '0',
    '1',
    '-1',
    '500',
    '501',
    '999999999',
    '1e3',
    '1.5',
    'abc',
    '%00',
    '%E9',
    '%C3%A9',
    '%zz',
    '%207',
  ),
  fc.string({ unit: fc.constantFrom(...NAME_CHARS, '=', '+', '%41'), maxLength: 20 }),
)

export function adminInput(live: readonly string[], nodes: number): fc.Arbitrary<AdminInput> {
  const topicSeg = fc.oneof(
    fc.constantFrom(...live),
    validName,
    fc.constantFrom('%20', '%2F', 'a%00b', '%C3%A9', '..', '.', 'x'.repeat(200)),
  )
  return fc.record({
    path: fc.oneof(
      fc
        .tuple(
          fc.constantFrom('/admin/api/topics', '/admin/api/connections'),
          queryValue,
          queryValue,
          queryValue,
        )
        .map(
          ([p, limit, cursor, extra]) =>
            `${p}?limit=${limit}&cursor=${cursor}&${p.endsWith('topics') ? 'prefix' : 'topic'}=${extra}`,
        ),
      fc.constantFrom('/admin/api/stats', '/admin/api/nodes'),
      topicSeg.map((t) => `/admin/api/topics/${t}/tail?x=1`),
      fc
        .string({ unit: fc.constantFrom(...NAME_CHARS, '%20', '%2F'), maxLength: 30 })
        .map((id) => `/admin/api/connections/${id}`),
    ),
    method: fc.constantFrom<'GET' | 'DELETE'>('GET', 'GET', 'DELETE'),
    key: fc.constantFrom(true, true, true, false),
    node: fc.nat({ max: nodes - 1 }),
  })
}

export interface WsFrameInput {
  opcode: number
  fin: boolean
  rsv: number
  masked: boolean
  payload: Uint8Array
}

/** WebSocket frames a client may send: valid and invalid opcodes, bad UTF-8, unmasked, too big. */
export const wsFrame: fc.Arbitrary<WsFrameInput> = fc.record({
  opcode: fc.constantFrom(0x1, 0x1, 0x2, 0x9, 0xa, 0x0, 0x3, 0x7, 0xb, 0xf, 0x8),
  fin: fc.constantFrom(true, true, true, false),
  rsv: fc.constantFrom(0, 0, 0, 0, 1, 2, 4),
  masked: fc.constantFrom(true, true, true, false),
  payload: fc
    .oneof(
      {
        weight: 6,
        arbitrary: fc.string({ maxLength: 40 }).map((s) => new TextEncoder().encode(s)),
      },
      {
        weight: 3,
        arbitrary: fc.constantFrom(
          new Uint8Array([0xc3]),
          new Uint8Array([0xff, 0xfe]),
          new Uint8Array([0xed, 0xa0, 0x80]),
        ),
      },
      { weight: 2, arbitrary: fc.uint8Array({ maxLength: 30 }) },
      { weight: 1, arbitrary: fc.constant(new Uint8Array(70_000).fill(0x61)) },
      { weight: 1, arbitrary: fc.constant(new Uint8Array(130).fill(0x62)) },
    )
    .map(printable),
})
