import { Fragment } from 'react'

/**
 * A topic name that wraps after its separators (`tenant/acme/` | `orders`) rather than in the
 * middle of a word when a narrow screen has to wrap it.
 */
export function TopicName({ topic }: { topic: string }) {
  const parts = topic.split(/(?<=[:/.@_-])/)
  return (
    <>
      {parts.map((p, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: the parts of one fixed string
        <Fragment key={i}>
          {i > 0 && <wbr />}
          {p}
        </Fragment>
      ))}
    </>
  )
}
