// Writes the results three ways: results.json (everything), RESULTS.md (tables), chart.svg.

/** A number the way the tables show it: about three significant digits. */
export function formatNumber(value) {
  if (typeof value !== 'number') return String(value)
  if (!Number.isFinite(value)) return String(value)
  const abs = Math.abs(value)
  if (Number.isInteger(value) || abs >= 1000) return Math.round(value).toLocaleString('en')
  if (abs >= 100) return value.toFixed(0)
  if (abs >= 10) return value.toFixed(1)
  if (abs >= 1) return value.toFixed(2)
  return value.toFixed(3)
}

function tableMarkdown({ caption, columns, rows }) {
  const lines = []
  if (caption) lines.push(`*${caption}*`, '')
  lines.push(`| ${columns.join(' | ')} |`, `|${columns.map(() => '---').join('|')}|`)
  for (const row of rows) lines.push(`| ${row.map(formatNumber).join(' | ')} |`)
  return lines.join('\n')
}

function checkLine({ name, value, unit, target, met }) {
  return `| ${met ? '✅ met' : '❌ missed'} | ${name} | ${formatNumber(value)} ${unit} | ${target} |`
}

export function resultsMarkdown({ machine, cases, quick }) {
  const lines = [
    '# modelport benchmark results',
    '',
    'Written by `npm run bench` (benchmark/run.mjs); do not edit. Release build of modelport;',
    'every figure is a median over interleaved rounds, every ratio the median of per-round ratios.',
    ...(quick ? ['', '**Quick run (`--quick`): fewer rounds and requests; not for comparison.**'] : []),
    '',
    '| machine | |',
    '|---|---|',
    ...Object.entries(machine).map(([key, value]) => `| ${key} | ${value} |`),
    '',
    '![chart](chart.svg)',
    '',
    '## Targets',
    '',
    '| | check | measured | target |',
    '|---|---|---|---|',
    ...cases.flatMap(({ result }) => result.checks.map(checkLine)),
  ]
  for (const { name, date, result, seconds } of cases) {
    lines.push(
      '',
      `## ${result.title}`,
      '',
      `\`${name}\`, run ${date}, ${seconds.toFixed(0)} s. ${result.method}`,
      '',
    )
    for (const table of result.tables) lines.push(tableMarkdown(table), '')
  }
  return lines.join('\n')
}

function escapeXml(text) {
  return String(text).replace(
    /[<>&"]/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c],
  )
}

/** One panel of horizontal bars per case that has a chart; a tick marks each bar's target. */
export function chartSvg(cases) {
  const width = 900
  const labelWidth = 330
  const barArea = width - labelWidth - 90
  const barHeight = 18
  const parts = []
  let y = 10
  for (const { result } of cases) {
    const chart = result.chart
    if (!chart || chart.bars.length === 0) continue
    parts.push(
      `<text x="10" y="${y + 16}" font-size="15" font-weight="bold">${escapeXml(chart.title)}</text>`,
    )
    y += 28
    const max = Math.max(...chart.bars.flatMap((bar) => [bar.value, bar.target ?? 0])) * 1.05
    for (const bar of chart.bars) {
      const met =
        bar.target === undefined
          ? undefined
          : chart.lowerIsBetter
            ? bar.value <= bar.target
            : bar.value >= bar.target
      const color = met === undefined ? '#6b7fa8' : met ? '#3a9a5b' : '#c8553d'
      const length = Math.max(1, (bar.value / max) * barArea)
      parts.push(
        `<text x="${labelWidth - 8}" y="${y + 13}" font-size="12" text-anchor="end">${escapeXml(`${bar.group} · ${bar.label}`)}</text>`,
        `<rect x="${labelWidth}" y="${y}" width="${length.toFixed(1)}" height="${barHeight}" fill="${color}"/>`,
        `<text x="${labelWidth + length + 6}" y="${y + 13}" font-size="12">${escapeXml(formatNumber(bar.value))}</text>`,
      )
      if (bar.target !== undefined) {
        const x = labelWidth + (bar.target / max) * barArea
        parts.push(
          `<line x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="${y - 3}" y2="${y + barHeight + 3}" stroke="#222" stroke-width="2" stroke-dasharray="3,2"/>`,
        )
      }
      y += barHeight + 6
    }
    y += 16
  }
  parts.push(
    `<text x="10" y="${y + 4}" font-size="11" fill="#555">green: target met · red: target missed · dashed tick: the target</text>`,
  )
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y + 20}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    ...parts,
    '</svg>',
  ].join('\n')
}
