import { SearchIcon, XIcon } from 'lucide-react'
import { type FormEvent, useEffect, useId, useState } from 'react'
import { Button } from '@/components/ui/button'
import { Input } from '@/components/ui/input'
import { Label } from '@/components/ui/label'
import { TOPIC_PATTERN } from '@/lib/types'

export interface SearchFields {
  id: string
  topicPrefix: string
  address: string
  userAgent: string
}

export const NO_SEARCH: SearchFields = { id: '', topicPrefix: '', address: '', userAgent: '' }

const FIELDS: { name: keyof SearchFields; label: string; placeholder: string; mono: boolean }[] = [
  { name: 'id', label: 'Connection id', placeholder: 'part of an id', mono: true },
  { name: 'topicPrefix', label: 'Topic prefix', placeholder: 'tenant/acme/', mono: true },
  { name: 'address', label: 'Address', placeholder: '10.0.', mono: true },
  { name: 'userAgent', label: 'User agent', placeholder: 'Chrome', mono: false },
]

/** The server-side connection search: every field filled must match (searched on the gateway). */
export function ConnectionSearchForm({
  value,
  onSubmit,
}: {
  value: SearchFields
  onSubmit(s: SearchFields): void
}) {
  const ids = useId()
  const [text, setText] = useState(value)
  const [error, setError] = useState<string | null>(null)
  useEffect(() => setText(value), [value])
  const any = Object.values(value).some(Boolean)

  function submit(e: FormEvent) {
    e.preventDefault()
    const s = {
      id: text.id.trim(),
      topicPrefix: text.topicPrefix.trim(),
      address: text.address.trim(),
      userAgent: text.userAgent.trim(),
    }
    if (s.topicPrefix && !TOPIC_PATTERN.test(s.topicPrefix)) {
      return setError('A topic prefix uses the characters A–Z a–z 0–9 - _ . : @ /')
    }
    setError(null)
    onSubmit(s)
  }

  return (
    <form
      onSubmit={submit}
      noValidate
      aria-label="Search connections"
      className="flex flex-col gap-2 rounded-lg border bg-card p-3"
    >
      <div className="grid grid-cols-1 gap-2 sm:grid-cols-2 lg:grid-cols-4">
        {FIELDS.map((f) => (
          <div key={f.name} className="flex min-w-0 flex-col gap-1">
            <Label htmlFor={`${ids}-${f.name}`} className="text-xs text-muted-foreground">
              {f.label}
            </Label>
            <Input
              id={`${ids}-${f.name}`}
              value={text[f.name]}
              placeholder={f.placeholder}
              className={f.mono ? 'font-mono text-[13px] md:text-[13px]' : undefined}
              onChange={(e) => setText({ ...text, [f.name]: e.target.value })}
            />
          </div>
        ))}
      </div>
      <div className="flex flex-wrap items-center gap-2">
        <Button type="submit" variant="secondary" size="sm">
          <SearchIcon /> Search
        </Button>
        {any && (
          <Button
            type="button"
            variant="ghost"
            size="sm"
            onClick={() => {
              setText(NO_SEARCH)
              onSubmit(NO_SEARCH)
            }}
          >
            <XIcon /> Clear search
          </Button>
        )}
        {error && (
          <p className="text-sm text-destructive" role="alert">
            {error}
          </p>
        )}
      </div>
    </form>
  )
}
