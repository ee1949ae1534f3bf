/** Runs async sections at most `limit` at a time, the others waiting in call order. */
export class Semaphore {
  private readonly limit: number
  private active = 0
  private readonly waiting: Array<() => void> = []

  constructor (limit: number) {
    this.limit = limit
  }

  async run<T> (section: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>(resolve => { this.waiting.push(resolve) })
    else this.active++
    try {
      return await section()
    } finally {
      // the slot passes to the next waiter as it is, or is freed
      const next = this.waiting.shift()
      if (next !== undefined) next()
      else this.active--
    }
  }
}
