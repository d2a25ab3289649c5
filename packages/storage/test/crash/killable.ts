import { spawn } from 'node:child_process'

/** When to kill: after the writer's n-th acknowledgement (appends still in flight), or a delay after `go` (during recovery). */
export type KillPoint = { afterAcks: number } | { afterMs: number }

export interface KillableWriter<Run> {
  /** Lets the writer open its storage, and SIGKILLs it at `killPoint`; resolves with what it reported. */
  go: (killPoint: KillPoint) => Promise<Run>
  /** Kills a writer that was never told to go. */
  discard: () => Promise<void>
}

/**
 * Spawns a crash-test writer that loads its code and then waits for the word (`go` on stdin) to
 * open its storage. Each line it prints goes to `onLine` as words, which records it in `run` and
 * says whether it was an acknowledgement (the kill point counts those).
 */
export function spawnKillableWriter<Run> (script: string, args: string[], run: Run, onLine: (words: string[], run: Run) => boolean): KillableWriter<Run> {
  const child = spawn(process.execPath, [script, ...args], { stdio: ['pipe', 'pipe', 'pipe'] })
  const closed = new Promise<string | null>((resolve) => child.on('close', (_code, signal) => { resolve(signal) }))
  let stderr = ''
  let pending = ''
  let acks = 0
  let onAck: () => void = () => {}
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  child.stdout.on('data', (chunk: Buffer) => {
    pending += chunk.toString()
    const lines = pending.split('\n')
    pending = lines.pop() ?? ''
    for (const line of lines) {
      if (!onLine(line.split(' '), run)) continue
      acks++
      onAck()
    }
  })
  const kill = (): void => { child.kill('SIGKILL') }
  return {
    go: async (killPoint) => {
      let timer: NodeJS.Timeout | undefined
      if ('afterMs' in killPoint) timer = setTimeout(kill, killPoint.afterMs)
      else onAck = () => { if (acks === killPoint.afterAcks) kill() }
      child.stdin.write('go\n')
      const signal = await closed
      clearTimeout(timer)
      if (signal !== 'SIGKILL') throw new Error(`writer exited on its own: ${stderr}`)
      return run
    },
    discard: async () => {
      kill()
      await closed
    }
  }
}
