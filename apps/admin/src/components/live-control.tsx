import { PauseIcon, PlayIcon } from 'lucide-react'
import { Button } from '@/components/ui/button'
import { NativeSelect } from '@/components/ui/native-select'
import { INTERVALS, useLive } from '@/lib/live'
import { cn } from '@/lib/utils'

/** Live updates on or off, and how often: the whole console follows it. */
export function LiveControl() {
  const live = useLive()
  const on = !live.paused
  return (
    <div className="flex items-center gap-1.5" data-testid="live-control">
      <Button
        variant="outline"
        size="sm"
        aria-pressed={on}
        aria-label="Live updates"
        title={on ? 'Live: click to stop the updates' : 'Stopped: click to update live again'}
        onClick={() => live.setPaused(on)}
      >
        <span
          className={cn('size-2 rounded-full', on ? 'bg-success' : 'bg-muted-foreground')}
          aria-hidden="true"
        />
        {on ? <PauseIcon aria-hidden="true" /> : <PlayIcon aria-hidden="true" />}
        <span className="hidden sm:inline" aria-hidden="true">
          {on ? 'Live' : 'Stopped'}
        </span>
      </Button>
      <NativeSelect
        aria-label="Update interval"
        value={live.intervalMs}
        onChange={(e) => live.setIntervalMs(Number(e.target.value))}
        className="w-[5.5rem]"
      >
        {INTERVALS.map((ms) => (
          <option key={ms} value={ms}>
            {ms / 1000} s
          </option>
        ))}
      </NativeSelect>
    </div>
  )
}
