import { SearchIcon, XIcon } from 'lucide-react'
import { type FormEvent, useEffect, useId, useState } from 'react'
import { Button } from '@/components/ui/button'
import { Input } from '@/components/ui/input'
import { TOPIC_PATTERN } from '@/lib/types'

/**
 * A topic name field that checks the gateway's character rules before anything is sent, and
 * suggests the live topics. Submitting an empty field clears the choice (when `clearable`).
 */
export function TopicFilter({
  value,
  onSubmit,
  suggestions,
  placeholder,
  action,
  clearable = false,
  multi = false,
}: {
  value: string
  onSubmit(topic: string): void
  suggestions: string[]
  placeholder: string
  action: string
  clearable?: boolean
  /** Several topics, comma-separated, each one a name or a `prefix*` (the tail). */
  multi?: boolean
}) {
  const [text, setText] = useState(value)
  const [error, setError] = useState<string | null>(null)
  const listId = useId()
  useEffect(() => setText(value), [value])

  function submit(e: FormEvent) {
    e.preventDefault()
    const t = text.trim()
    if (t === '' && clearable) {
      setError(null)
      return onSubmit('')
    }
    const parts = multi ? t.split(',').map((p) => p.trim()) : [t]
    const bad = parts.find((p) => !TOPIC_PATTERN.test(multi ? p.replace(/\*$/, '') : p))
    if (bad !== undefined) {
      return setError(
        t === ''
          ? 'Enter a topic name.'
          : multi
            ? `“${bad}”: a topic is 1–128 characters from A–Z a–z 0–9 - _ . : @ / (a prefix ends with *)`
            : 'A topic is 1–128 characters from A–Z a–z 0–9 - _ . : @ /',
      )
    }
    setError(null)
    onSubmit(parts.join(','))
  }

  return (
    <form
      onSubmit={submit}
      className="flex w-full min-w-0 flex-col gap-1.5 sm:max-w-md sm:flex-1"
      noValidate
    >
      <div className="flex gap-2">
        <div className="relative min-w-0 flex-1">
          <SearchIcon className="pointer-events-none absolute top-1/2 left-2.5 size-4 -translate-y-1/2 text-muted-foreground" />
          <Input
            aria-label="Topic"
            placeholder={placeholder}
            className="pr-8 pl-8 font-mono text-[13px] md:text-[13px]"
            list={listId}
            value={text}
            aria-invalid={error ? true : undefined}
            onChange={(e) => setText(e.target.value)}
          />
          {clearable && value && (
            <button
              type="button"
              aria-label="Clear topic"
              className="absolute top-1/2 right-2 -translate-y-1/2 rounded p-0.5 text-muted-foreground hover:text-foreground"
              onClick={() => {
                setText('')
                onSubmit('')
              }}
            >
              <XIcon className="size-4" />
            </button>
          )}
          <datalist id={listId}>
            {suggestions.map((s) => (
              <option key={s} value={s} />
            ))}
          </datalist>
        </div>
        <Button type="submit" variant="secondary">
          {action}
        </Button>
      </div>
      {error && (
        <p className="text-sm text-destructive" role="alert">
          {error}
        </p>
      )}
    </form>
  )
}
