import { describe, expect, it } from 'vitest'
import type { ClusterConfig } from '@synod/interfaces'
import {
  groupMembers, nextGroupAction, nextShardAction, nextWave, rebalanceStatus, staleMoves, targetPlacement, type GroupMembers
} from '../../src/sharding/cluster-plan.js'
import {
  createMetadataStateMachine, encodeMetadataCommand, hostsAnything, type MetadataCommand, type MetadataNode, type MetadataResult, type MetadataStateMachine
} from '../../src/sharding/metadata.js'
import type { ShardPlacement } from '../../src/sharding/shard-map.js'
import { seededRandom } from './support.js'

const node = (id: string): MetadataNode => ({ id, address: `memory://${id}` })

function machineWith (ids: string[], shardCount = 8): { machine: MetadataStateMachine, run: (command: MetadataCommand) => MetadataResult } {
  const machine = createMetadataStateMachine()
  let index = 0
  const run = (command: MetadataCommand): MetadataResult => machine.apply({ index: ++index, term: 1, data: encodeMetadataCommand(command) })
  run({ op: 'bootstrap', nodes: ids.map(node), shardCount, replicationFactor: 3 })
  return { machine, run }
}

const config = (voters: string[], learners: string[] = []): ClusterConfig => ({ voters, learners, addresses: {} })

describe('metadata membership and move commands', () => {
  it('admits in join order, drains, retargets and finishes moves, and forgets a node only once nothing names it', async () => {
    const { machine, run } = machineWith(['a', 'b', 'c'])
    expect(run({ op: 'add-node', node: { ...node('d'), wsUrl: 'ws://d' } })).toEqual({ ok: true, epoch: 2 })
    // Admitting again with the same addresses is a no-op; new addresses are an update.
    expect(run({ op: 'add-node', node: { ...node('d'), wsUrl: 'ws://d' } })).toEqual({ ok: true, epoch: 2 })
    expect(run({ op: 'add-node', node: { ...node('d'), wsUrl: 'ws://d2' } })).toEqual({ ok: true, epoch: 3 })
    expect(machine.state().nodes.map((n) => n.id)).toEqual(['a', 'b', 'c', 'd'])
    expect(machine.state().nodes[3]!.wsUrl).toBe('ws://d2')

    const wave = nextWave(machine.state(), 1)
    expect(wave.length).toBeGreaterThan(0)
    // The wave's targets are the ring's placement on four nodes, for shards whose placement differs from it.
    const four = targetPlacement(machine.state())
    for (const target of wave) {
      expect(target).toEqual(four[target.shard])
      expect(samePlacementAt(machine.state().placement, target)).toBe(false)
    }
    expect(run({ op: 'start-moves', targets: wave, expectedEpoch: 1 })).toEqual({ ok: false, epoch: 3 })
    expect(run({ op: 'start-moves', targets: wave, expectedEpoch: 3 })).toEqual({ ok: true, epoch: 4 })
    // No second wave while one is under way, and no shard moves twice at once.
    expect(nextWave(machine.state(), 1)).toEqual([])
    expect(run({ op: 'start-moves', targets: wave, expectedEpoch: 4 }).ok).toBe(false)
    expect(rebalanceStatus(machine.state())).toMatchObject({ active: true, moving: wave.length })

    // d is drained before its moves finish: every move toward it is retargeted, d kept as `previous`.
    expect(run({ op: 'drain-node', id: 'd' })).toEqual({ ok: true, epoch: 5 })
    expect(run({ op: 'drain-node', id: 'd' })).toEqual({ ok: true, epoch: 5 })
    expect(run({ op: 'remove-node', id: 'd' }).ok).toBe(false)
    const stale = staleMoves(machine.state())
    expect(stale.map((target) => target.shard).sort()).toEqual(wave.filter((target) => target.replicas.includes('d')).map((target) => target.shard).sort())
    for (const target of stale) {
      expect(target.replicas).not.toContain('d')
      expect(run({ op: 'retarget-move', placement: target, expectedEpoch: machine.state().epoch }).ok).toBe(true)
    }
    expect(staleMoves(machine.state())).toEqual([])
    expect(machine.state().moves.filter((move) => move.previous?.includes('d') === true)).toHaveLength(stale.length)
    expect(run({ op: 'remove-node', id: 'd' }).ok).toBe(false)
    // Finishing: only the move's current target is accepted.
    for (const move of [...machine.state().moves]) {
      const { previous: _previous, ...target } = move
      expect(run({ op: 'finish-move', placement: { ...target, preferredLeader: 'zz' } }).ok).toBe(false)
      expect(run({ op: 'finish-move', placement: target }).ok).toBe(true)
      expect(machine.state().placement[move.shard]).toEqual(target)
    }
    expect(machine.state().movesDone).toBe(wave.length)
    expect(run({ op: 'remove-node', id: 'd' }).ok).toBe(true)
    expect(machine.state().nodes.map((n) => n.id)).toEqual(['a', 'b', 'c'])
    expect(machine.state().draining).toEqual([])
    // Moves of the wave that never named d finished at their targets: the next waves take them to the three-node targets.
    expect(rebalanceStatus(machine.state())).toMatchObject({ moving: 0, draining: [] })

    // The last active node cannot be drained; a snapshot carries every field.
    const { run: runSmall } = machineWith(['solo'])
    expect(runSmall({ op: 'drain-node', id: 'solo' }).ok).toBe(false)
    const copy = createMetadataStateMachine()
    await copy.restore(machine.snapshot(), { index: 1, term: 1 })
    expect(copy.state()).toEqual(machine.state())
  })
})

function samePlacementAt (placement: ShardPlacement[], target: ShardPlacement): boolean {
  const current = placement[target.shard]!
  return current.preferredLeader === target.preferredLeader && current.replicas.join() === target.replicas.join()
}

describe('small group members', () => {
  it('makes the first three active members voters and keeps a draining voter until it hosts nothing', () => {
    const { machine, run } = machineWith(['a', 'b', 'c', 'd'])
    expect(groupMembers(machine.state(), 3)).toEqual({ voters: ['a', 'b', 'c'], learners: ['d'] })
    run({ op: 'drain-node', id: 'a' })
    // a still hosts replicas: it stays (as a non-voter-to-be) while d is promoted.
    expect(groupMembers(machine.state(), 3)).toEqual({ voters: ['b', 'c', 'd'], learners: ['a'] })
    expect(nextGroupAction(config(['a', 'b', 'c'], ['d']), groupMembers(machine.state(), 3), 'b')).toEqual({ kind: 'promote', node: 'd' })
    expect(nextGroupAction(config(['a', 'b', 'c', 'd']), groupMembers(machine.state(), 3), 'b')).toBeUndefined()
  })

  it('reaches the wanted members from any configuration by legal single-server changes, promoting before removing', () => {
    const random = seededRandom(7)
    const ids = ['a', 'b', 'c', 'd', 'e', 'f']
    const pick = (): string[] => ids.filter(() => random.next() < 0.5)
    for (let round = 0; round < 300; round++) {
      let voters = pick()
      if (voters.length === 0) voters = [ids[random.int(ids.length)]!]
      let learners = pick().filter((id) => !voters.includes(id))
      const wantedVoters = pick().slice(0, 3)
      if (wantedVoters.length === 0) wantedVoters.push(voters[0]!)
      const wanted: GroupMembers = { voters: wantedVoters, learners: pick().filter((id) => !wantedVoters.includes(id)) }
      let leader = voters[random.int(voters.length)]!
      for (let steps = 0; ; steps++) {
        expect(steps).toBeLessThan(30)
        const action = nextGroupAction(config(voters, learners), wanted, leader)
        if (action === undefined) break
        const before = voters.length
        switch (action.kind) {
          case 'add-learner':
            expect(voters.includes(action.node) || learners.includes(action.node)).toBe(false)
            learners = [...learners, action.node]
            break
          case 'promote':
            expect(learners).toContain(action.node)
            learners = learners.filter((id) => id !== action.node)
            voters = [...voters, action.node]
            break
          case 'remove':
            expect(action.node).not.toBe(leader)
            // A voter leaves only once every wanted voter votes.
            if (voters.includes(action.node)) expect(wanted.voters.every((id) => voters.includes(id))).toBe(true)
            voters = voters.filter((id) => id !== action.node)
            learners = learners.filter((id) => id !== action.node)
            expect(voters.length).toBeGreaterThanOrEqual(Math.min(before, wanted.voters.length))
            break
          case 'transfer-leadership':
            expect(voters).toContain(action.to)
            leader = action.to
            break
        }
      }
      // Every wanted member is in; nobody unwanted is left.
      const keep = new Set([...wanted.voters, ...wanted.learners])
      for (const id of wanted.voters) expect(voters).toContain(id)
      for (const id of wanted.learners) expect(voters.includes(id) || learners.includes(id)).toBe(true)
      for (const id of [...voters, ...learners]) expect(keep.has(id)).toBe(true)
    }
  })
})

describe('shard moves', () => {
  it('drives any configuration to a target by legal steps, from whichever voter leads, never below the target\'s voter count', () => {
    const random = seededRandom(11)
    const ids = ['a', 'b', 'c', 'd', 'e', 'f']
    for (let round = 0; round < 300; round++) {
      const shuffled = random.shuffle(ids)
      const target: ShardPlacement = { shard: 0, replicas: shuffled.slice(0, 3), preferredLeader: shuffled[random.int(3)]! }
      // The group as a move left it: some old voters, perhaps some of the target's already in, a stray learner.
      let voters = random.shuffle(ids).slice(0, 3)
      let learners = ids.filter((id) => !voters.includes(id) && random.next() < 0.3)
      let leader = voters[random.int(voters.length)]!
      let finished = false
      for (let steps = 0; steps < 40 && !finished; steps++) {
        // Any voter may take over between steps (an election).
        if (random.next() < 0.2) leader = voters[random.int(voters.length)]!
        const action = nextShardAction(config(voters, learners), target, leader)
        if (action.kind === 'finish') {
          expect([...voters].sort()).toEqual([...target.replicas].sort())
          expect(learners).toEqual([])
          expect(action.transferTo).toBe(leader === target.preferredLeader ? undefined : target.preferredLeader)
          finished = true
          break
        }
        expect(action.kind).toBe('step')
        if (action.kind !== 'step') break
        const step = action.step
        const before = voters.length
        switch (step.kind) {
          case 'add-learner':
            expect(target.replicas).toContain(step.node)
            learners = [...learners, step.node]
            break
          case 'promote':
            learners = learners.filter((id) => id !== step.node)
            voters = [...voters, step.node]
            break
          case 'remove':
            expect(step.node).not.toBe(leader)
            expect(target.replicas).not.toContain(step.node)
            voters = voters.filter((id) => id !== step.node)
            learners = learners.filter((id) => id !== step.node)
            expect(voters.length).toBeGreaterThanOrEqual(Math.min(before, target.replicas.length))
            break
          case 'transfer-leadership':
            expect(voters).toContain(step.to)
            expect(target.replicas).toContain(step.to)
            leader = step.to
            break
          case 'await-catch-up':
            throw new Error('await-catch-up is part of promote here')
        }
      }
      expect(finished).toBe(true)
    }
  })

  it('releases moves as throttle slots free up, never letting a node take part in more than maxMovesPerNode', () => {
    const random = seededRandom(3)
    for (const max of [1, 2]) {
      const { machine, run } = machineWith(['a', 'b', 'c'], 32)
      run({ op: 'add-node', node: node('d') })
      run({ op: 'add-node', node: node('e') })
      // With a drained too, every move would involve a, and max 1 would run them strictly one by one.
      if (max === 2) run({ op: 'drain-node', id: 'a' })
      let releasedWhileMoving = false
      for (let round = 0; round < 500 && rebalanceStatus(machine.state()).active; round++) {
        const state = machine.state()
        const targets = nextWave(state, max)
        if (targets.length > 0) {
          if (state.moves.length > 0) releasedWhileMoving = true
          expect(run({ op: 'start-moves', targets, expectedEpoch: state.epoch }).ok).toBe(true)
        }
        // The throttle holds over everything under way.
        const load = new Map<string, number>()
        for (const move of machine.state().moves) {
          const before = machine.state().placement[move.shard]!.replicas
          for (const id of [...move.replicas.filter((n) => !before.includes(n)), ...before.filter((n) => !move.replicas.includes(n))]) load.set(id, (load.get(id) ?? 0) + 1)
        }
        for (const count of load.values()) expect(count).toBeLessThanOrEqual(max)
        // One move under way (chosen at random) finishes per round.
        const moves = machine.state().moves
        if (moves.length > 0) expect(run({ op: 'finish-move', placement: moves[random.int(moves.length)]! }).ok).toBe(true)
        if (!hostsAnything(machine.state(), 'a') && machine.state().draining.includes('a')) run({ op: 'remove-node', id: 'a' })
      }
      expect(rebalanceStatus(machine.state()).active).toBe(false)
      expect(machine.state().placement).toEqual(targetPlacement(machine.state()))
      expect(releasedWhileMoving).toBe(true)
    }
  })

  it('moves replicas off a draining node first', () => {
    const { machine, run } = machineWith(['a', 'b', 'c', 'd'], 32)
    run({ op: 'add-node', node: node('e') })
    run({ op: 'drain-node', id: 'c' })
    const state = machine.state()
    const copies = nextWave(state, 1).filter((target) => target.replicas.join() !== state.placement[target.shard]!.replicas.join())
    // With one slot per node, c (whose every replica must go) takes part in the first copy released,
    // although in shard order the first copy (shard 0) only moves a replica from b to e.
    expect(state.placement[0]!.replicas).not.toContain('c')
    expect(copies.length).toBeGreaterThan(0)
    expect(state.placement[copies[0]!.shard]!.replicas).toContain('c')
  })

  it('waits while a joint configuration is being left', () => {
    expect(nextShardAction({ ...config(['a', 'b', 'c']), outgoingVoters: ['a', 'b', 'd'] }, { shard: 0, replicas: ['a', 'b', 'c'], preferredLeader: 'a' }, 'a')).toEqual({ kind: 'wait' })
  })

  it('targets the ring placement of the active members only', () => {
    const { machine, run } = machineWith(['a', 'b', 'c', 'd'], 16)
    run({ op: 'drain-node', id: 'b' })
    const target = targetPlacement(machine.state())
    expect(target).toHaveLength(16)
    expect(target.every((placement) => !placement.replicas.includes('b') && placement.replicas.length === 3)).toBe(true)
    expect(rebalanceStatus(machine.state())).toMatchObject({ active: true, moving: 0, draining: ['b'] })
    // Every shard on b moves (and a few more change only their preferred leader).
    expect(rebalanceStatus(machine.state()).pending).toBeGreaterThanOrEqual(machine.state().placement.filter((placement) => placement.replicas.includes('b')).length)
  })
})
