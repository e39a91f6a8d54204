/**
 * Connection ids that sort by creation time (lexicographically), so a listing ordered by id with
 * a cursor on the last id lists each connection once while others come and go.
 * Shape: `c` + 9 base36 chars of milliseconds + 5 of a per-process sequence + 4 random.
 */
export function createIdGenerator(): () => string {
  let seq = Math.floor(Math.random() * 36 ** 4)
  let lastMs = 0
  return function nextId(): string {
    let ms = Date.now()
    if (ms < lastMs) ms = lastMs // clocks can step back; ids must not
    lastMs = ms
    seq = (seq + 1) % 36 ** 5
    const rand = Math.floor(Math.random() * 36 ** 4)
    return `c${ms.toString(36).padStart(9, '0')}${seq.toString(36).padStart(5, '0')}${rand
      .toString(36)
      .padStart(4, '0')}`
  }
}
