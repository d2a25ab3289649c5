import { readFileSync } from 'node:fs'
import { mkdir, open, readFile, realpath } from 'node:fs/promises'
import { join } from 'node:path'
import { ResourceLockedError } from '@synod/interfaces'
import { removeIfExists } from './fs.js'

/** A held directory lock. */
export interface DirLock {
  release(): Promise<void>
}

/** Directories locked by this process (a second instance in the same process is refused too). */
const heldHere = new Set<string>()

/**
 * Takes the lock file `lockName` in `dir` (created if missing), so two processes never open the
 * same storage. Each kind of storage has its own lock name, so one node directory can hold all. The file names its owner as `pid starttime`; a lock whose owner is gone (crash,
 * `kill -9`) is taken over. The start time (from /proc, where there is one) guards against a new
 * process that reuses the pid of the old owner.
 *
 * Limits: this is an advisory, cooperative lock between Synod processes on one host; it does not
 * protect against other programs or network file systems.
 */
export async function acquireDirLock (dir: string, lockName: string): Promise<DirLock> {
  await mkdir(dir, { recursive: true })
  const canonical = await realpath(dir)
  const path = join(canonical, lockName)
  if (heldHere.has(path)) throw new ResourceLockedError(canonical, `${canonical} is already open in this process`)
  const identity = `${process.pid} ${processStartTime(process.pid) ?? '-'}\n`
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(path, 'wx')
      try {
        await handle.writeFile(identity)
        await handle.sync()
      } finally {
        await handle.close()
      }
      heldHere.add(path)
      let released = false
      return {
        release: async () => {
          if (released) return
          released = true
          heldHere.delete(path)
          await removeIfExists(path)
        }
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }
    const owner = await readFile(path, 'utf8').catch(() => '')
    if (ownerIsAlive(owner)) throw new ResourceLockedError(canonical)
    await removeIfExists(path)
  }
  throw new ResourceLockedError(canonical)
}

/**
 * Takes the lock as `acquireDirLock` does, then runs `open` (recovery, loading files) under it. If
 * `open` fails, `cleanUp` undoes what it left open and the lock is released before the error is
 * rethrown, so a storage that failed to start holds nothing and can be started again.
 */
export async function openUnderDirLock (dir: string, lockName: string, open: () => Promise<void>, cleanUp?: () => Promise<void>): Promise<DirLock> {
  const lock = await acquireDirLock(dir, lockName)
  try {
    await open()
  } catch (error) {
    await cleanUp?.()
    await lock.release()
    throw error
  }
  return lock
}

function ownerIsAlive (owner: string): boolean {
  const [pidText, startText] = owner.trim().split(' ')
  const pid = Number.parseInt(pidText ?? '', 10)
  if (!Number.isInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false
  }
  const stat = processStat(pid)
  // A zombie (killed, not yet reaped: common in containers without an init) holds no files.
  if (stat?.state === 'Z') return false
  if (startText === undefined || startText === '-' || stat === undefined) return true
  return stat.startTime === startText
}

/** State and start time (clock ticks since boot) from /proc/<pid>/stat, where there is one. */
function processStat (pid: number): { state: string, startTime: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name (field 2) may contain spaces; the fields after it start past the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return { state: fields[0] ?? '', startTime: fields[19] ?? '' }
  } catch {
    return undefined
  }
}

function processStartTime (pid: number): string | undefined {
  return processStat(pid)?.startTime
}
