import {
  type StoredEvent,
  type TopicHistory,
  type TopicPosition,
  newEpoch,
} from '@sse-gateway/core'

/** The window's bounds (REPLAY_EVENTS, REPLAY_AGE_MS, REPLAY_TOPIC_BYTES); `events: 0` keeps positions only. */
export interface WindowLimits {
  events: number
  ageMs: number
  topicBytes: number
}

/** An event as a publish gives it to the window. */
export interface WindowEvent {
  id: string
  event?: string | undefined
  data: string
}

/**
 * What one held event counts for against REPLAY_TOPIC_BYTES: body, id and type in UTF-16 code
 * units, plus 320, the same measure as the memory namespace's (one setting, one meaning; in
 * SQLite a row's own overhead is smaller, so this errs on the side of holding less).
 */
export function eventBytes(ev: WindowEvent): number {
  return ev.data.length + ev.id.length + (ev.event?.length ?? 0) + 320
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS replay_state (
  k INTEGER PRIMARY KEY CHECK (k = 0), epoch TEXT NOT NULL, last INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS replay_events (
  seq INTEGER PRIMARY KEY, id TEXT NOT NULL, event TEXT, data TEXT NOT NULL,
  time INTEGER NOT NULL, bytes INTEGER NOT NULL);`

/** A held event's bookkeeping, kept in memory beside its row so that trimming needs no query. */
interface Held {
  seq: number
  time: number
  bytes: number
}

/**
 * One topic's replay window in its Durable Object's SQLite storage, so that it survives the
 * object's eviction: the epoch (made once, when the topic is first used), the last sequence
 * number given, and the held events, trimmed by count, age and bytes.
 *
 * A topic that was never subscribed to has no tables at all: the drop path of a topic nobody
 * listens to writes nothing and leaves no storage behind.
 */
export class ReplayWindow {
  readonly #sql: SqlStorage
  readonly #limits: WindowLimits
  readonly #now: () => number
  #loaded = false
  #epoch: string | undefined
  #last = 0
  /**
   * The `last` stored in `replay_state`. While the newest held event's row carries the last
   * number, the state row is not rewritten: a publish writes one row, not two.
   */
  #storedLast = 0
  #held: Held[] = []
  #head = 0
  #bytes = 0

  constructor(sql: SqlStorage, limits: WindowLimits, now: () => number = Date.now) {
    this.#sql = sql
    this.#limits = limits
    this.#now = now
  }

  /** Reads the stored state once per object instance; a topic without tables stays unstarted. */
  #load(): void {
    if (this.#loaded) return
    this.#loaded = true
    let row: Record<string, SqlStorageValue> | undefined
    try {
      row = this.#sql.exec('SELECT epoch, last FROM replay_state WHERE k = 0').toArray()[0]
    } catch {
      return // no such table: never started
    }
    if (!row) return
    this.#epoch = row.epoch as string
    this.#storedLast = Number(row.last)
    for (const r of this.#sql.exec('SELECT seq, time, bytes FROM replay_events ORDER BY seq')) {
      const bytes = Number(r.bytes)
      this.#held.push({ seq: Number(r.seq), time: Number(r.time), bytes })
      this.#bytes += bytes
    }
    this.#last = Math.max(this.#storedLast, this.#held.at(-1)?.seq ?? 0)
  }

  /** The epoch, made and stored on first use. */
  #start(): string {
    this.#load()
    if (this.#epoch !== undefined) return this.#epoch
    const epoch = newEpoch()
    this.#sql.exec(SCHEMA)
    this.#sql.exec('INSERT INTO replay_state (k, epoch, last) VALUES (0, ?, 0)', epoch)
    this.#epoch = epoch
    this.#last = 0
    this.#storedLast = 0
    return epoch
  }

  /** True once the topic has an epoch (it was subscribed to, and not forgotten since). */
  get started(): boolean {
    this.#load()
    return this.#epoch !== undefined
  }

  /** Where the topic stands now (making its epoch if it has none). */
  position(): TopicPosition {
    return { epoch: this.#start(), seq: this.#last }
  }

  /** Gives a published event the topic's next sequence number, and holds it within the bounds. */
  append(ev: WindowEvent): TopicPosition {
    const epoch = this.#start()
    const seq = ++this.#last
    const now = this.#now()
    const bytes = eventBytes(ev)
    const held = this.#limits.events > 0 && bytes <= this.#limits.topicBytes
    if (held) {
      this.#sql.exec(
        'INSERT INTO replay_events (seq, id, event, data, time, bytes) VALUES (?, ?, ?, ?, ?, ?)',
        seq,
        ev.id,
        ev.event ?? null,
        ev.data,
        now,
        bytes,
      )
      this.#held.push({ seq, time: now, bytes })
      this.#bytes += bytes
    } else this.#storeLast()
    this.#trim(now)
    return { epoch, seq }
  }

  /**
   * A publish dropped for want of a subscriber: it takes the next number too, so a client that
   * resumes is told how many it missed. A topic without an epoch has nobody to tell: nothing is written.
   */
  skip(): boolean {
    if (!this.started) return false
    this.#last++
    this.#storeLast()
    return true
  }

  /**
   * The topic's history for a resume: epoch, last number, and the held events after `after`
   * (all of them when `after` is of another epoch; none without `after`: a fresh connection).
   */
  history(after: TopicPosition | undefined): TopicHistory {
    const epoch = this.#start()
    this.#trim(this.#now())
    const events: StoredEvent[] = []
    if (after !== undefined && this.#held.length > this.#head) {
      const from = after.epoch === epoch ? after.seq : 0
      for (const r of this.#sql.exec(
        'SELECT seq, id, event, data FROM replay_events WHERE seq > ? ORDER BY seq',
        from,
      )) {
        events.push({
          seq: Number(r.seq),
          id: r.id as string,
          event: (r.event as string | null) ?? undefined,
          data: r.data as string,
        })
      }
    }
    return { epoch, last: this.#last, events }
  }

  /** Held events and their bytes (admin listing); null when the topic has no window yet. */
  size(): { events: number; bytes: number } | null {
    if (!this.started) return null
    this.#trim(this.#now())
    return { events: this.#held.length - this.#head, bytes: this.#bytes }
  }

  /** When the newest held event was published; undefined when none is held. */
  newest(): number | undefined {
    this.#load()
    return this.#held.length > this.#head ? this.#held[this.#held.length - 1]?.time : undefined
  }

  /** Writes `last` to the state row (a number no held row carries: a drop, an event not held). */
  #storeLast(): void {
    if (this.#storedLast === this.#last) return
    this.#sql.exec('UPDATE replay_state SET last = ? WHERE k = 0', this.#last)
    this.#storedLast = this.#last
  }

  /** Forgets the in-memory copy after the object deleted its storage: the next use makes a new epoch. */
  forgotten(): void {
    this.#loaded = false
    this.#epoch = undefined
    this.#last = 0
    this.#storedLast = 0
    this.#held = []
    this.#head = 0
    this.#bytes = 0
  }

  /** Lets the oldest events go while over a bound; one DELETE for all of them. */
  #trim(now: number): void {
    const { events, topicBytes, ageMs } = this.#limits
    const cutoff = now - ageMs
    let cut: number | undefined
    for (;;) {
      const oldest = this.#held[this.#head]
      if (oldest === undefined) break
      const size = this.#held.length - this.#head
      if (size <= events && this.#bytes <= topicBytes && oldest.time >= cutoff) break
      this.#bytes -= oldest.bytes
      cut = oldest.seq
      this.#head++
    }
    if (cut === undefined) return
    // The newest row goes too (all aged out): the state row keeps the number.
    if (this.#head === this.#held.length) this.#storeLast()
    this.#sql.exec('DELETE FROM replay_events WHERE seq <= ?', cut)
    if (this.#head > 64 && this.#head * 2 > this.#held.length) {
      this.#held = this.#held.slice(this.#head)
      this.#head = 0
    }
  }
}
