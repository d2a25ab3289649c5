import { report, request, type ClientOptions } from './client-commands.js'

export const membersHelp = `synod members: list and change the cluster's members

Usage:
  synod members list                               members, roles, peer addresses, leader
  synod members add <id> <host:port> [--learner] [--api-url <url>] [--ws-url <url>]
                                                   add a member (start it first with synod start --join)
  synod members promote <id>                       make a learner a voter
  synod members remove <id>                        remove a member

  --learner          add as a non-voting learner (recommended: promote it once it has caught up)
  --api-url <url>    the new member's HTTP API URL, for leader hints on the node that serves the change
  --ws-url <url>     the new member's WebSocket client API URL (sharded clusters put it in the shard map)
  --endpoints <urls> nodes to ask (default: the synod dev cluster); changes go to the leader
  --token <token>    bearer token

A change is applied by the leader through the log and answers once it is in force; an unsafe one
(another change pending, removing the last voter, ...) fails with ERR_INVALID_MEMBERSHIP.

In a sharded cluster (synod start --shards) members are only added and removed: the answer comes
once the metadata group has recorded the change, and shard replicas then move by themselves
(synod shards and synod status show the progress); a removed node is drained before it leaves.`

/** The server bounds a change to 30 s; wait a little longer so its own answer arrives. */
const CHANGE_TIMEOUT_MS = 35_000

export async function members (options: ClientOptions, positionals: string[], flags: { learner: boolean, apiUrl: string | undefined, wsUrl?: string | undefined }): Promise<number> {
  const [action, id, peerAddress] = positionals
  const need = (value: string | undefined, what: string): string => {
    if (value === undefined) throw new Error(`synod members ${action ?? ''} needs ${what} (see synod members --help)`)
    return value
  }
  switch (action) {
    case 'list': {
      const reply = await request(options, 'GET', '/v1/members')
      if (reply.status >= 400) return report(options, reply)
      const body = reply.body as { members?: Array<{ id: string, role: string, peerAddress?: string, apiUrl?: string }>, leader?: string }
      for (const member of body.members ?? []) {
        const leader = member.id === body.leader ? '  (leader)' : ''
        options.print(`${member.id}  ${member.role}  ${member.peerAddress ?? '-'}  ${member.apiUrl ?? '-'}${leader}`)
      }
      return 0
    }
    case 'add': {
      const body = { op: 'add', id: need(id, 'an id'), peerAddress: need(peerAddress, 'a peer address (host:port)'), learner: flags.learner, ...(flags.apiUrl === undefined ? {} : { apiUrl: flags.apiUrl }), ...(flags.wsUrl === undefined ? {} : { wsUrl: flags.wsUrl }) }
      return report(options, await request(options, 'POST', '/v1/members', JSON.stringify(body), CHANGE_TIMEOUT_MS))
    }
    case 'promote': case 'remove':
      return report(options, await request(options, 'POST', '/v1/members', JSON.stringify({ op: action, id: need(id, 'an id') }), CHANGE_TIMEOUT_MS))
    default:
      throw new Error(`synod members needs list, add, promote or remove (see synod members --help)`)
  }
}
