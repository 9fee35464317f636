/**
 * A binary min-heap of timers ordered by (time, sequence number). The sequence number makes the order of
 * timers due at the same instant the order they were set in, which keeps virtual-time runs deterministic.
 * Cancellation is lazy: a cancelled id is skipped when it reaches the top.
 */
export interface HeapEntry<T> { time: number, seq: number, value: T }

export class TimerHeap<T> {
  #items: Array<HeapEntry<T>> = []
  #seq = 1
  readonly #cancelled = new Set<number>()
  readonly #live = new Set<number>()

  get size (): number { return this.#live.size }

  /** Adds a timer and returns its id (its sequence number). */
  push (time: number, value: T): number {
    const seq = this.#seq++
    const items = this.#items
    items.push({ time, seq, value })
    this.#live.add(seq)
    let i = items.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!less(items[i], items[parent])) break
      ;[items[i], items[parent]] = [items[parent], items[i]]
      i = parent
    }
    return seq
  }

  cancel (id: number): void {
    if (this.#live.delete(id)) this.#cancelled.add(id)
  }

  /** Time of the earliest live timer, or undefined when none is pending. */
  peekTime (): number | undefined {
    this.#dropCancelledTop()
    return this.#items[0]?.time
  }

  pop (): HeapEntry<T> | undefined {
    this.#dropCancelledTop()
    const top = this.#popRaw()
    if (top !== undefined) this.#live.delete(top.seq)
    return top
  }

  #dropCancelledTop (): void {
    while (this.#items.length > 0 && this.#cancelled.has(this.#items[0].seq)) {
      this.#cancelled.delete(this.#items[0].seq)
      this.#popRaw()
    }
  }

  #popRaw (): HeapEntry<T> | undefined {
    const items = this.#items
    if (items.length === 0) return undefined
    const top = items[0]
    const last = items.pop()!
    if (items.length > 0) {
      items[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < items.length && less(items[l], items[m])) m = l
        if (r < items.length && less(items[r], items[m])) m = r
        if (m === i) break
        ;[items[i], items[m]] = [items[m], items[i]]
        i = m
      }
    }
    return top
  }
}

function less<T> (a: HeapEntry<T>, b: HeapEntry<T>): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq)
}
