/**
 * A dependency-free SVG timeline for simulation reports: named time series drawn as step lines (e.g. the
 * live-member count seen by each side of a partition), shaded spans (a partition from its start to its
 * heal), and point events in one lane per kind under the plot (suspicions, deaths, crashes, pauses).
 *
 * Layout, top to bottom: title, plot with y axis on the left and legend on the right, event lanes with
 * their kind and count, the x axis in seconds. Axis ticks are "nice" numbers (1, 2, 5 × 10^k). Every
 * piece of user text is XML-escaped; the output is deterministic (same input, same bytes).
 */

export interface TimelineSeries {
  name: string
  /** [timeMs, value] points, in time order; drawn as a step line (the value holds until the next point). */
  points: ReadonlyArray<readonly [number, number]>
  /** CSS colour. @default from a colour-blind-safe palette */
  color?: string
}

export interface TimelineEvent {
  timeMs: number
  /** Groups events into one lane and one colour, e.g. 'suspect', 'dead', 'crash'. */
  kind: string
  /** Shown as a tooltip. */
  label?: string
}

export interface TimelineSpan {
  fromMs: number
  toMs: number
  label: string
  color?: string
}

export interface TimelineInit {
  title: string
  series: readonly TimelineSeries[]
  events?: readonly TimelineEvent[]
  spans?: readonly TimelineSpan[]
  /** Width of the whole image, in px. @default 960 */
  widthPx?: number
  /** Height of the plot area, in px (event lanes add to it). @default 320 */
  plotHeightPx?: number
  /** @default 'time (s)' */
  xLabel?: string
  /** @default '' */
  yLabel?: string
  /** Start of the x axis, in ms. @default the earliest time in the data */
  fromMs?: number
  /** End of the x axis, in ms. @default the latest time in the data */
  toMs?: number
  /** Lower end of the y axis. @default 0, or the smallest value if negative */
  yMin?: number
  /** Upper end of the y axis. @default the largest value */
  yMax?: number
}

// Okabe–Ito colour-blind-safe palette.
const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#F0E442', '#000000']
const EVENT_PALETTE = ['#D55E00', '#000000', '#CC79A7', '#0072B2', '#009E73', '#E69F00', '#56B4E9', '#999999']
const SPAN_COLOR = '#F0E442'

const MARGIN_LEFT = 70
const MARGIN_RIGHT = 200
const MARGIN_TOP = 44
const LANE_HEIGHT = 18
const AXIS_HEIGHT = 46

export function escapeXml (text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&#39;' })[c]!)
}

/** Rounds for SVG coordinates: 2 decimals, no trailing zeros. */
function n (v: number): string {
  return String(Math.round(v * 100) / 100)
}

/** Evenly spaced "nice" tick values covering [lo, hi], about `count` of them. */
export function niceTicks (lo: number, hi: number, count = 6): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return []
  if (hi <= lo) return [lo]
  const raw = (hi - lo) / Math.max(1, count)
  const mag = 10 ** Math.floor(Math.log10(raw))
  const norm = raw / mag
  const step = (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * mag
  const ticks: number[] = []
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push(Math.round(v / step) * step)
  return ticks
}

function formatTick (v: number): string {
  if (v === 0) return '0'
  const a = Math.abs(v)
  if (a >= 1e6) return `${n(v / 1e6)}M`
  if (a >= 1e4) return `${n(v / 1e3)}k`
  return String(Math.round(v * 1000) / 1000)
}

/** Renders the timeline as a standalone SVG document. */
export function renderTimeline (init: TimelineInit): string {
  const series = init.series
  const events = init.events ?? []
  const spans = init.spans ?? []
  const width = init.widthPx ?? 960
  const plotH = init.plotHeightPx ?? 320
  const kinds: string[] = []
  for (const e of events) if (!kinds.includes(e.kind)) kinds.push(e.kind)
  const lanesH = kinds.length * LANE_HEIGHT + (kinds.length > 0 ? 8 : 0)
  const height = MARGIN_TOP + plotH + lanesH + AXIS_HEIGHT
  const plotW = width - MARGIN_LEFT - MARGIN_RIGHT

  let tMin = Infinity
  let tMax = -Infinity
  let vMin = Infinity
  let vMax = -Infinity
  for (const s of series) {
    for (const [t, v] of s.points) {
      if (t < tMin) tMin = t
      if (t > tMax) tMax = t
      if (v < vMin) vMin = v
      if (v > vMax) vMax = v
    }
  }
  for (const e of events) { if (e.timeMs < tMin) tMin = e.timeMs; if (e.timeMs > tMax) tMax = e.timeMs }
  for (const s of spans) { if (s.fromMs < tMin) tMin = s.fromMs; if (s.toMs > tMax) tMax = s.toMs }
  const x0 = init.fromMs ?? (Number.isFinite(tMin) ? tMin : 0)
  let x1 = init.toMs ?? (Number.isFinite(tMax) ? tMax : 1000)
  if (x1 <= x0) x1 = x0 + 1000
  const y0 = init.yMin ?? (Number.isFinite(vMin) && vMin < 0 ? vMin : 0)
  let y1 = init.yMax ?? (Number.isFinite(vMax) ? vMax : 1)
  if (y1 <= y0) y1 = y0 + 1
  let yTicks = niceTicks(y0, y1, 5)
  if (init.yMax === undefined && yTicks.length > 1 && yTicks[yTicks.length - 1] < y1) {
    // round the top up to the next tick so the largest value sits under a labelled line
    y1 = yTicks[yTicks.length - 1] + (yTicks[1] - yTicks[0])
    yTicks = niceTicks(y0, y1, 5)
  }
  const X = (t: number): number => MARGIN_LEFT + ((t - x0) / (x1 - x0)) * plotW
  const Y = (v: number): number => MARGIN_TOP + plotH - ((v - y0) / (y1 - y0)) * plotH
  const clampX = (t: number): number => Math.min(Math.max(X(t), MARGIN_LEFT), MARGIN_LEFT + plotW)

  const out: string[] = []
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, Segoe UI, sans-serif" font-size="12">`)
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`)
  out.push(`<text x="${n(width / 2)}" y="24" text-anchor="middle" font-size="16" font-weight="600">${escapeXml(init.title)}</text>`)

  // spans (behind everything)
  spans.forEach((s) => {
    const a = clampX(s.fromMs)
    const b = clampX(s.toMs)
    out.push(`<g><title>${escapeXml(`${s.label}: ${formatTick(s.fromMs / 1000)} s to ${formatTick(s.toMs / 1000)} s`)}</title>` +
      `<rect x="${n(a)}" y="${MARGIN_TOP}" width="${n(Math.max(1, b - a))}" height="${plotH + lanesH}" fill="${escapeXml(s.color ?? SPAN_COLOR)}" fill-opacity="0.25"/>` +
      `<text x="${n(a + 3)}" y="${MARGIN_TOP + 12}" font-size="10" fill="#555">${escapeXml(s.label)}</text></g>`)
  })

  // grid and y axis
  for (const v of yTicks) {
    const y = Y(v)
    out.push(`<line x1="${MARGIN_LEFT}" y1="${n(y)}" x2="${MARGIN_LEFT + plotW}" y2="${n(y)}" stroke="#e5e5e5"/>`)
    out.push(`<text x="${MARGIN_LEFT - 6}" y="${n(y + 4)}" text-anchor="end" fill="#333">${formatTick(v)}</text>`)
  }
  out.push(`<rect x="${MARGIN_LEFT}" y="${MARGIN_TOP}" width="${plotW}" height="${plotH}" fill="none" stroke="#999"/>`)
  if (init.yLabel !== undefined && init.yLabel !== '') {
    const cy = MARGIN_TOP + plotH / 2
    out.push(`<text x="16" y="${n(cy)}" text-anchor="middle" transform="rotate(-90 16 ${n(cy)})" fill="#333">${escapeXml(init.yLabel)}</text>`)
  }

  // series as step lines
  series.forEach((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length]
    if (s.points.length === 0) return
    // a step line needs a vertex only where the value changes
    let d = ''
    let prevY = 0
    s.points.forEach(([t, v], k) => {
      const x = X(t)
      const y = Y(v)
      if (k === 0) d = `M${n(x)},${n(y)}`
      else if (y !== prevY) d += `H${n(x)}V${n(y)}`
      prevY = y
    })
    const last = s.points[s.points.length - 1]
    if (last[0] < x1) d += `H${n(X(x1))}`
    out.push(`<path d="${d}" fill="none" stroke="${escapeXml(color)}" stroke-width="2"><title>${escapeXml(s.name)}</title></path>`)
  })

  // event lanes
  const lanesTop = MARGIN_TOP + plotH + 8
  kinds.forEach((kind, i) => {
    const color = EVENT_PALETTE[i % EVENT_PALETTE.length]
    const y = lanesTop + i * LANE_HEIGHT
    const ofKind = events.filter((e) => e.kind === kind)
    out.push(`<text x="${MARGIN_LEFT - 6}" y="${n(y + 12)}" text-anchor="end" fill="${color}">${escapeXml(kind)}</text>`)
    out.push(`<line x1="${MARGIN_LEFT}" y1="${n(y + LANE_HEIGHT / 2)}" x2="${MARGIN_LEFT + plotW}" y2="${n(y + LANE_HEIGHT / 2)}" stroke="#f0f0f0"/>`)
    // one tick per pixel column: thousands of events stay a readable (and small) lane
    const columns = new Map<number, { first: TimelineEvent, count: number }>()
    for (const e of ofKind) {
      const col = Math.round(clampX(e.timeMs))
      const c = columns.get(col)
      if (c === undefined) columns.set(col, { first: e, count: 1 })
      else c.count++
    }
    const ticks: string[] = []
    for (const [col, { first, count }] of [...columns].sort((p, q) => p[0] - q[0])) {
      const what = count > 1 ? `${count} × ${kind}` : first.label
      const tip = what !== undefined ? `<title>${escapeXml(`${formatTick(first.timeMs / 1000)} s: ${what}`)}</title>` : ''
      const line = `<line x1="${col}" y1="${n(y + 3)}" x2="${col}" y2="${n(y + LANE_HEIGHT - 3)}"`
      ticks.push(tip === '' ? `${line}/>` : `${line}>${tip}</line>`)
    }
    out.push(`<g stroke="${color}" stroke-width="1.5" stroke-opacity="0.8">${ticks.join('')}</g>`)
    out.push(`<text x="${MARGIN_LEFT + plotW + 8}" y="${n(y + 12)}" fill="#555">${ofKind.length}</text>`)
  })

  // x axis
  const axisY = MARGIN_TOP + plotH + lanesH
  out.push(`<line x1="${MARGIN_LEFT}" y1="${axisY}" x2="${MARGIN_LEFT + plotW}" y2="${axisY}" stroke="#999"/>`)
  for (const tS of niceTicks(x0 / 1000, x1 / 1000, 8)) {
    const x = X(tS * 1000)
    out.push(`<line x1="${n(x)}" y1="${axisY}" x2="${n(x)}" y2="${axisY + 5}" stroke="#999"/>`)
    out.push(`<text x="${n(x)}" y="${axisY + 18}" text-anchor="middle" fill="#333">${formatTick(tS)}</text>`)
  }
  out.push(`<text x="${n(MARGIN_LEFT + plotW / 2)}" y="${axisY + 38}" text-anchor="middle" fill="#333">${escapeXml(init.xLabel ?? 'time (s)')}</text>`)

  // legend
  const lx = MARGIN_LEFT + plotW + 16
  let ly = MARGIN_TOP + 8
  series.forEach((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length]
    out.push(`<line x1="${lx}" y1="${ly}" x2="${lx + 18}" y2="${ly}" stroke="${escapeXml(color)}" stroke-width="2"/>`)
    out.push(`<text x="${lx + 24}" y="${ly + 4}" fill="#333">${escapeXml(s.name)}</text>`)
    ly += 18
  })
  const spanLabels: string[] = []
  for (const s of spans) if (!spanLabels.includes(s.label)) spanLabels.push(s.label)
  for (const label of spanLabels) {
    const color = spans.find((s) => s.label === label)!.color ?? SPAN_COLOR
    out.push(`<rect x="${lx}" y="${ly - 6}" width="18" height="12" fill="${escapeXml(color)}" fill-opacity="0.35"/>`)
    out.push(`<text x="${lx + 24}" y="${ly + 4}" fill="#333">${escapeXml(label)}</text>`)
    ly += 18
  }
  out.push('</svg>')
  return out.join('\n') + '\n'
}
