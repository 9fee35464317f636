import { describe, expect, it } from 'vitest'
import { niceTicks, renderTimeline } from '../../src/sim/index.js'

describe('renderTimeline', () => {
  const init = {
    title: 'Live members <partition & heal>',
    yLabel: 'live members',
    series: [
      { name: 'side A', points: [[0, 10], [30_000, 5], [90_000, 10]] as Array<[number, number]> },
      { name: 'side B', points: [[0, 10], [32_000, 5], [91_000, 10]] as Array<[number, number]> }
    ],
    events: [
      { timeMs: 31_000, kind: 'suspect', label: 'p1 suspects p7' },
      { timeMs: 33_000, kind: 'suspect' },
      { timeMs: 40_000, kind: 'dead', label: 'p7 declared dead' },
      { timeMs: 10_000, kind: 'crash' }
    ],
    spans: [{ fromMs: 30_000, toMs: 90_000, label: 'partition' }]
  }

  it('draws a well-formed SVG with title, axes, series, legend, spans and event lanes', () => {
    const svg = renderTimeline(init)
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true)
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true)
    expect(svg).toContain('Live members &lt;partition &amp; heal&gt;')
    expect(svg).not.toContain('<partition')
    expect(svg.match(/<path /g)).toHaveLength(2)
    for (const text of ['side A', 'side B', 'partition', 'suspect', 'dead', 'crash', 'time (s)', 'live members', 'p1 suspects p7']) expect(svg).toContain(text)
    // x axis in seconds with nice ticks, y axis up to 10
    expect(svg).toContain('>60</text>')
    expect(svg).toContain('>10</text>')
    // one lane per kind with its count
    expect(svg).toMatch(/suspect<\/text>[\s\S]*>2<\/text>/)
    // balanced tags
    const opens = (svg.match(/<(g|svg|text|title|path)[\s>]/g) ?? []).length
    const closes = (svg.match(/<\/(g|svg|text|title|path)>/g) ?? []).length
    expect(opens).toBe(closes)
  })

  it('is deterministic and copes with empty input', () => {
    expect(renderTimeline(init)).toBe(renderTimeline(init))
    const empty = renderTimeline({ title: 'nothing', series: [] })
    expect(empty).toContain('nothing')
    expect(empty).not.toContain('NaN')
    expect(renderTimeline(init)).not.toContain('NaN')
  })
})

describe('renderTimeline at scale', () => {
  it('merges events that fall on the same pixel, so 100,000 events stay a small file', () => {
    const events = Array.from({ length: 100_000 }, (_, i) => ({ timeMs: i * 6, kind: 'suspect' }))
    const svg = renderTimeline({ title: 'many', series: [{ name: 'n', points: [[0, 1], [600_000, 1]] }], events })
    expect(svg.length).toBeLessThan(100_000)
    expect(svg).toMatch(/\d+ × suspect/)
    expect(svg).toContain('>100000</text>')
  })
})

describe('niceTicks', () => {
  it('picks 1, 2, 5 × 10^k steps covering the range', () => {
    expect(niceTicks(0, 10, 5)).toEqual([0, 2, 4, 6, 8, 10])
    expect(niceTicks(0, 600, 6)).toEqual([0, 100, 200, 300, 400, 500, 600])
    expect(niceTicks(0, 1000, 5)).toEqual([0, 200, 400, 600, 800, 1000])
    expect(niceTicks(5, 5)).toEqual([5])
  })
})
