import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inflateSync } from 'node:zlib'
import { chromium, type BrowserContext } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Logger, ReplicatedLog } from '@synod/interfaces'
import { createObservability, type Observability } from '../src/observability/index.js'

const CHROMIUM = '/usr/bin/chromium'
const SCREENSHOT = join(import.meta.dirname, '..', 'test-results', 'dashboard.png')
const silent: Logger = { trace () {}, debug () {}, info () {}, warn () {}, error () {}, child: () => silent }

const servers: Server[] = []
async function listen (server: Server): Promise<string> {
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

/** A three-member cluster as the dashboard sees it: n1 (this node, leader), n2 (follower), n3 (down). */
async function startFakeCluster (): Promise<{ url: string, observability: Observability }> {
  const n2 = await listen(createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ id: 'n2', role: 'follower', term: 6, leader: 'n1', commitIndex: 118, appliedIndex: 117, firstIndex: 1, lastIndex: 118 }))
  }))
  const n3Server = createServer()
  const n3 = await listen(n3Server)
  await new Promise((resolve) => n3Server.close(resolve))

  const apiUrls = new Map<string, string>([['n2', n2], ['n3', n3]])
  let commitIndex = 120
  let sent = 0
  const observability = createObservability({ nodeId: 'n1', apiUrls, statusTimeoutMs: 500 }, {
    raft: {
      status: () => ({ id: 'n1', role: 'leader', term: 6, leader: 'n1', commitIndex, appliedIndex: commitIndex, firstIndex: 1, lastIndex: commitIndex, progress: { n2: { match: 118, next: 119 }, n3: { match: 64, next: 65 } } }),
      metrics: () => ({ leaderChanges: 2, proposals: commitIndex, proposalsFailed: 0 })
    },
    transport: { stats: () => ({ messagesSent: (sent += 40), messagesReceived: sent - 3, dropped: 1, queuedMessages: 0 }) },
    kv: { size: () => 1234, revision: () => commitIndex },
    logger: silent
  })
  const url = await listen(createServer((req, res) => {
    if (observability.handle(req, res)) return
    res.writeHead(404).end()
  }))
  apiUrls.set('n1', url)
  const log = observability.instrumentLog({
    propose: async () => await new Promise((resolve) => setTimeout(() => { resolve({ index: commitIndex, term: 6, result: undefined }) }, 3))
  } as unknown as ReplicatedLog<unknown>)
  // Steady fake traffic, so the page has rates and latencies to show between two scrapes.
  const traffic = setInterval(() => {
    commitIndex += 5
    for (let i = 0; i < 20; i++) observability.recordHttp('/v1/kv/:key', 200, 1 + (i % 7))
    observability.recordHttp('/v1/kv/:key', 421, 0.4)
    observability.recordHttp('/v1/status', 200, 0.2)
    for (let i = 0; i < 3; i++) void log.propose(new Uint8Array([i]))
  }, 100)
  traffic.unref()
  servers.push({ close: (done: () => void) => { clearInterval(traffic); done() }, closeAllConnections () {} } as unknown as Server)
  return { url, observability }
}

describe('dashboard in headless Chromium', () => {
  let context: BrowserContext | undefined
  let userDataDir: string | undefined

  beforeAll(async () => {
    // Without Chromium the test itself fails (below) with how to install it; it is never skipped.
    if (!existsSync(CHROMIUM)) return
    userDataDir = await mkdtemp(join(tmpdir(), 'synod-dashboard-'))
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1200, height: 900 }
    })
  })

  afterAll(async () => {
    await context?.close()
    if (userDataDir !== undefined) await rm(userDataDir, { recursive: true, force: true })
    await Promise.all(servers.splice(0).map(async (server) => {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    }))
  })

  it('renders the members, the leader, the down member and live request rates', async () => {
    if (context === undefined) {
      expect.fail(`The dashboard test needs Chromium at ${CHROMIUM}. Install it with: apt-get update && apt-get install -y chromium`)
    }
    const { url } = await startFakeCluster()
    const page = await context.newPage()
    const pageErrors: string[] = []
    page.on('pageerror', (error) => { pageErrors.push(error.message) })
    await page.goto(`${url}/dashboard`)

    await page.locator('tr[data-member="n3"].down').waitFor({ timeout: 10_000 })
    // Rates need two scrapes.
    await page.waitForFunction('Number(document.body.getAttribute("data-polls")) >= 3', undefined, { timeout: 10_000 })

    expect(await page.locator('#leader').textContent()).toBe('n1')
    expect(await page.locator('#term').textContent()).toBe('6')
    expect(await page.locator('#up').textContent()).toBe('2 / 3')
    expect(await page.locator('#keys').textContent()).toBe('1234')
    expect(await page.locator('#error').textContent()).toBe('')

    const rows = await page.evaluate<string[][]>('Array.from(document.querySelectorAll("#members tbody tr"), (tr) => Array.from(tr.children, (td) => td.textContent))')
    expect(rows.map((row) => row.slice(0, 4))).toEqual([
      ['n1 (this node)', 'up', 'leader', '6'],
      ['n2', 'up', 'follower', '6'],
      ['n3', 'down', 'ECONNREFUSED', expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/) as string]
    ])
    expect(rows[1]!.slice(4, 7)).toEqual(['n1', '118', '117'])

    const kvRoute = page.locator('#routes tr[data-route="/v1/kv/:key"] td')
    const [route, requestsPerSecond, errorsPerSecond, mean, p99] = await kvRoute.allTextContents()
    expect(route).toBe('/v1/kv/:key')
    expect(Number(requestsPerSecond)).toBeGreaterThan(0)
    expect(Number(errorsPerSecond)).toBe(0) // 421 is a client redirect, not a server error
    expect(mean).toMatch(/ ms$/)
    expect(p99).toMatch(/ ms$/)
    expect(Number(await page.locator('#rps').textContent())).toBeGreaterThan(0)
    expect(await page.locator('#proposal-p99').textContent()).toMatch(/^\d+(\.\d+)? ms$/)
    expect(await page.locator('#raft').textContent()).toContain('Peer n3 match / next64 / 65')

    await mkdir(join(SCREENSHOT, '..'), { recursive: true })
    const png = await page.screenshot({ fullPage: true })
    await writeFile(SCREENSHOT, png)
    const image = decodePng(png)
    expect(image.width).toBe(1200)
    expect(image.height).toBeGreaterThanOrEqual(600)
    const colours = colourCounts(image)
    expect(colours.size).toBeGreaterThan(20)
    // Not one flat colour with specks: the background takes well under all of the page.
    expect(Math.max(...colours.values()) / (image.width * image.height)).toBeLessThan(0.9)
    // The role badges are drawn in their colours: leader green, follower blue, down red.
    for (const rgb of [[0x1f, 0x7a, 0x4d], [0x2f, 0x5f, 0xb3], [0xc0, 0x39, 0x2b]] as const) {
      expect(colours.get((rgb[0] << 16) | (rgb[1] << 8) | rgb[2]) ?? 0).toBeGreaterThan(50)
    }
    expect(pageErrors).toEqual([])
  })
})

interface Image { width: number, height: number, channels: number, pixels: Uint8Array }

/** Decodes an 8-bit RGB or RGBA, non-interlaced PNG (what Chromium's screenshots are). */
function decodePng (png: Buffer): Image {
  expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))
  let offset = 8
  let width = 0; let height = 0; let channels = 0
  const data: Buffer[] = []
  while (offset < png.length) {
    const length = png.readUInt32BE(offset)
    const type = png.toString('latin1', offset + 4, offset + 8)
    const body = png.subarray(offset + 8, offset + 8 + length)
    if (type === 'IHDR') {
      width = body.readUInt32BE(0)
      height = body.readUInt32BE(4)
      expect(body[8]).toBe(8) // bit depth
      expect(body[12]).toBe(0) // no interlacing
      channels = body[9] === 6 ? 4 : body[9] === 2 ? 3 : 0
      expect(channels).toBeGreaterThan(0)
    } else if (type === 'IDAT') {
      data.push(body)
    }
    offset += 12 + length
  }
  const raw = inflateSync(Buffer.concat(data))
  const stride = width * channels
  const pixels = new Uint8Array(stride * height)
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1))
    for (let x = 0; x < stride; x++) {
      const left = x >= channels ? pixels[y * stride + x - channels]! : 0
      const up = y > 0 ? pixels[(y - 1) * stride + x]! : 0
      const upLeft = x >= channels && y > 0 ? pixels[(y - 1) * stride + x - channels]! : 0
      let predictor = 0
      switch (filter) {
        case 0: predictor = 0; break
        case 1: predictor = left; break
        case 2: predictor = up; break
        case 3: predictor = (left + up) >> 1; break
        case 4: {
          const p = left + up - upLeft
          const pa = Math.abs(p - left); const pb = Math.abs(p - up); const pc = Math.abs(p - upLeft)
          predictor = pa <= pb && pa <= pc ? left : pb <= pc ? up : upLeft
          break
        }
        default: throw new Error(`bad PNG filter ${String(filter)}`)
      }
      pixels[y * stride + x] = (line[x]! + predictor) & 0xff
    }
  }
  return { width, height, channels, pixels }
}

function colourCounts (image: Image): Map<number, number> {
  const counts = new Map<number, number>()
  for (let i = 0; i < image.pixels.length; i += image.channels) {
    const rgb = (image.pixels[i]! << 16) | (image.pixels[i + 1]! << 8) | image.pixels[i + 2]!
    counts.set(rgb, (counts.get(rgb) ?? 0) + 1)
  }
  return counts
}
