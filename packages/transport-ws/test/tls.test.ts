import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TlsOptions, WsTransport } from '../src/index.js'
import { testTransport, waitFor } from './helpers.js'

/** A throwaway CA and certificates for 127.0.0.1, made with the openssl CLI. */
interface Pki { ca: string, otherCa: string, node: (name: string, ca?: 'ca' | 'other') => { cert: string, key: string } }

function makePki (dir: string): Pki {
  const openssl = (...args: string[]): void => { execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' }) }
  const makeCa = (name: string): void => {
    openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.crt`)
  }
  makeCa('ca')
  makeCa('other')
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n')
  return {
    ca: readFileSync(join(dir, 'ca.crt'), 'utf8'),
    otherCa: readFileSync(join(dir, 'other.crt'), 'utf8'),
    node (name, ca = 'ca') {
      openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.csr`)
      openssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-days', '1', '-extfile', 'san.ext', '-out', `${name}.crt`)
      return { cert: readFileSync(join(dir, `${name}.crt`), 'utf8'), key: readFileSync(join(dir, `${name}.key`), 'utf8') }
    }
  }
}

let hasOpenssl = true
try { execFileSync('openssl', ['version'], { stdio: 'ignore' }) } catch { hasOpenssl = false }

describe.skipIf(!hasOpenssl)('TLS (wss) and mutual TLS', () => {
  let dir: string
  let pki: Pki
  const started: WsTransport[] = []

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'synod-tls-'))
    pki = makePki(dir)
  })
  afterAll(async () => {
    for (const t of started) await t.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  async function node (id: string, tls: TlsOptions): Promise<{ transport: WsTransport, inbox: unknown[], errors: string[] }> {
    const transport = testTransport(id, { tls })
    const inbox: unknown[] = []
    const errors: string[] = []
    transport.onMessage((_from, message) => { inbox.push(message) })
    transport.addEventListener('peer:error', (event) => { errors.push(event.detail.code) })
    await transport.start()
    started.push(transport)
    return { transport, inbox, errors }
  }

  it('exchanges messages over wss with a private CA', async () => {
    const a = await node('a', { ca: pki.ca, ...pki.node('a') })
    const b = await node('b', { ca: pki.ca, ...pki.node('b') })
    expect(a.transport.address).toMatch(/^wss:\/\/127\.0\.0\.1:\d+$/)
    a.transport.addPeer('b', b.transport.address!)
    b.transport.addPeer('a', a.transport.address!)
    a.transport.send('b', { over: 'tls' })
    await waitFor(() => b.inbox.length === 1, 'delivery over wss')
    b.transport.send('a', { back: true })
    await waitFor(() => a.inbox.length === 1, 'reply over wss')
    expect(b.inbox[0]).toEqual({ over: 'tls' })
  })

  it('with mutual TLS, refuses a dialer whose certificate another CA signed', async () => {
    const server = await node('m1', { ca: pki.ca, ...pki.node('m1'), mutual: true })
    const good = await node('m2', { ca: pki.ca, ...pki.node('m2'), mutual: true })
    // Trusts the server's CA, but presents a certificate the server does not trust.
    const rogue = await node('m3', { ca: pki.ca, ...pki.node('m3', 'other'), mutual: true })
    good.transport.addPeer('m1', server.transport.address!)
    rogue.transport.addPeer('m1', server.transport.address!)
    rogue.transport.send('m1', 'from rogue')
    good.transport.send('m1', 'from good')
    await waitFor(() => server.inbox.length === 1, 'the trusted dialer')
    await waitFor(() => server.errors.length >= 2, 'the rogue dialer to be refused twice')
    expect(server.errors.every((code) => code === 'ERR_UNAUTHORIZED')).toBe(true)
    expect(server.inbox).toEqual(['from good'])
    expect(rogue.transport.stats().messagesSent).toBe(0)
  })

  it('a dialer refuses a listener whose certificate it does not trust', async () => {
    const untrusted = await node('u1', { ca: pki.otherCa, ...pki.node('u1', 'other') })
    const dialer = await node('u2', { ca: pki.ca, ...pki.node('u2') })
    dialer.transport.addPeer('u1', untrusted.transport.address!)
    dialer.transport.send('u1', 'secret')
    await waitFor(() => dialer.errors.length >= 2, 'the dialer to refuse the listener twice')
    expect(dialer.errors.every((code) => code === 'ERR_UNAUTHORIZED')).toBe(true)
    expect(untrusted.inbox).toEqual([])
    expect(dialer.transport.stats().messagesSent).toBe(0)
  })
})
