import { describe, expect, it } from 'vitest'
import { type PublishAnswer, publishAnswerJson } from './publish.ts'

describe('publishAnswerJson', () => {
  it('writes the JSON that JSON.stringify writes, for every shape of answer', () => {
    const answers: PublishAnswer[] = [
      { id: 'e1', delivered: [], dropped: ['news'] },
      { id: 'a:b@c/d.e_f-9', delivered: ['t1', 'room/42'], dropped: [] },
      { id: 'x', delivered: ['a'], dropped: ['b', 'c', 'd'] },
      { id: 'b1', delivered: ['*'], dropped: [], connections: 0 },
      { id: 'b2', delivered: ['*'], dropped: [], connections: 12_345 },
    ]
    for (const a of answers) expect(publishAnswerJson(a)).toBe(JSON.stringify(a))
  })
})
