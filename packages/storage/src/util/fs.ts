import { open, readFile, rename, unlink } from 'node:fs/promises'
import { basename, dirname } from 'node:path'
import { CorruptionError } from '@synod/interfaces'
import { crc32cOf } from './checksum.js'

/**
 * fsyncs a directory, making the creation, rename or removal of its entries durable. Without it a
 * renamed file can vanish after power loss (etcd issue 6368).
 */
export async function fsyncDir (dir: string): Promise<void> {
  const handle = await open(dir, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/**
 * Replaces `path` with `data` atomically and durably: write a temp file, fsync it, rename it over
 * `path`, fsync the directory. A crash leaves either the old or the new content, never a mix.
 */
export async function writeFileAtomic (path: string, data: Uint8Array): Promise<void> {
  const temp = `${path}.tmp`
  const handle = await open(temp, 'w')
  try {
    await handle.writeFile(data)
    await handle.sync()
  } finally {
    await handle.close()
  }
  await rename(temp, path)
  await fsyncDir(dirname(path))
}

/** Removes `path`, ignoring a missing file. */
export async function removeIfExists (path: string): Promise<void> {
  try {
    await unlink(path)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
}

const CHECKSUM_PREFIX = 'crc32c:'

/** Encodes JSON behind a checksum line (`crc32c:xxxxxxxx\n{...}`), so a damaged file is detected. */
export function encodeChecksummedJson (value: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(value), 'utf8')
  const line = `${CHECKSUM_PREFIX}${crc32cOf(body).toString(16).padStart(8, '0')}\n`
  return Buffer.concat([Buffer.from(line, 'ascii'), body])
}

/** Reads a file written by {@link encodeChecksummedJson}; undefined if it does not exist. */
export async function readChecksummedJson (path: string): Promise<unknown> {
  let content: Buffer
  try {
    content = await readFile(path)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
  const newline = content.indexOf(0x0a)
  const line = newline < 0 ? '' : content.subarray(0, newline).toString('ascii')
  const body = content.subarray(newline + 1)
  if (!line.startsWith(CHECKSUM_PREFIX) || Number.parseInt(line.slice(CHECKSUM_PREFIX.length), 16) !== crc32cOf(body)) {
    throw new CorruptionError(`${basename(path)} failed its checksum`, { file: path, offset: 0 })
  }
  try {
    return JSON.parse(body.toString('utf8'))
  } catch (cause) {
    throw new CorruptionError(`${basename(path)} is not valid JSON`, { file: path, offset: newline + 1, cause })
  }
}
