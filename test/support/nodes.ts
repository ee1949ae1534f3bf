import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createBootstrapNode, createMemberNode, createSiteNode, type BootstrapNode, type MemberNode, type MemberNodeOptions, type SiteNode, type SiteNodeOptions } from '../../src/node/index.js'

/**
 * In-process nodes for integration tests: real libp2p over TCP on 127.0.0.1 and real
 * LevelDB in a temporary folder. Call cleanup() in afterEach: it stops every node that is
 * still running and removes the folder.
 */
export class TestNet {
  readonly dir: string
  private readonly nodes = new Set<SiteNode | MemberNode | BootstrapNode>()

  private constructor (dir: string) {
    this.dir = dir
  }

  static async create (): Promise<TestNet> {
    return new TestNet(await mkdtemp(join(tmpdir(), 'tmtp-test-')))
  }

  path (name: string): string {
    return join(this.dir, name)
  }

  async site (name = 'site', options: Partial<SiteNodeOptions> = {}): Promise<SiteNode> {
    const node = await createSiteNode({ dataDir: this.path(name), name, retryBaseMs: 50, retryCapMs: 500, ...options })
    this.nodes.add(node)
    return node
  }

  async member (name = 'member', options: Partial<MemberNodeOptions> = {}): Promise<MemberNode> {
    const node = await createMemberNode({ dataDir: this.path(name), deviceName: name, retryBaseMs: 50, retryCapMs: 500, ...options })
    this.nodes.add(node)
    return node
  }

  async bootstrap (name = 'bootstrap', bootstrap: string[] = []): Promise<BootstrapNode> {
    const node = await createBootstrapNode({ dataDir: this.path(name), bootstrap })
    this.nodes.add(node)
    return node
  }

  async stop (node: SiteNode | MemberNode | BootstrapNode): Promise<void> {
    this.nodes.delete(node)
    await node.stop()
  }

  async cleanup (): Promise<void> {
    for (const node of this.nodes) await node.stop().catch(() => {})
    this.nodes.clear()
    await rm(this.dir, { recursive: true, force: true })
  }
}
