import { createHash } from 'node:crypto'

/** The report's style sheet: status colours shared by the table, the DAG and the timeline. */
export const REPORT_CSS = `
:root{--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--bg:#fff;--alt:#f6f8fa;
--ok:#1a7f37;--ok-bg:#dafbe1;--bad:#cf222e;--bad-bg:#ffebe9;--skip:#57606a;--skip-bg:#eaeef2;--stop:#9a6700;--stop-bg:#fff8c5}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#9198a1;--line:#3d444d;--bg:#0d1117;--alt:#151b23;
--ok:#3fb950;--ok-bg:#12261e;--bad:#f85149;--bad-bg:#2d1214;--skip:#9198a1;--skip-bg:#212830;--stop:#d29922;--stop-bg:#272115}}
*{box-sizing:border-box}
body{margin:0 auto;max-width:1280px;padding:16px 24px;font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:var(--bg)}
h1{font-size:22px;margin:8px 0}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}
.muted{color:var(--muted)}code,pre,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}
.scroll{overflow:auto;max-height:560px;border:1px solid var(--line);border-radius:6px;padding:6px;background:var(--bg)}
.badge{display:inline-block;padding:0 8px;border-radius:10px;font-weight:600;font-size:12px;border:1px solid}
.badge.st-success{color:var(--ok);background:var(--ok-bg)}.badge.st-failure{color:var(--bad);background:var(--bad-bg)}
.badge.st-skipped{color:var(--skip);background:var(--skip-bg)}.badge.st-cancelled{color:var(--stop);background:var(--stop-bg)}
table{border-collapse:collapse;width:100%}th,td{text-align:left;vertical-align:top;padding:4px 8px;border-bottom:1px solid var(--line)}
th{position:sticky;top:0;background:var(--alt)}td.num{text-align:right}
tr.instance td{background:var(--alt)}tr.instance td:first-child{font-weight:600}tr.stage td:first-child{padding-left:24px}.nest1{padding-left:1.5em}.nest2{padding-left:3em}.nest3{padding-left:4.5em}
tr.instance.st-failure td:first-child{box-shadow:inset 3px 0 var(--bad)}
.err{color:var(--bad);white-space:pre-wrap}.out{white-space:pre-wrap;word-break:break-all}
svg text{fill:var(--fg);font:12px system-ui,sans-serif}
.dag .node rect{stroke-width:1.5}.dag .node text{text-anchor:middle;dominant-baseline:central}
.dag .edge{fill:none;stroke:var(--muted);stroke-width:1.5}.dag marker path{fill:var(--muted)}
.st-success rect,.bar.st-success,.seg.st-success{fill:var(--ok-bg);stroke:var(--ok)}
.st-failure rect,.bar.st-failure,.seg.st-failure{fill:var(--bad-bg);stroke:var(--bad)}
.st-skipped rect,.bar.st-skipped,.seg.st-skipped,.st-none rect{fill:var(--skip-bg);stroke:var(--skip)}
.st-cancelled rect,.bar.st-cancelled,.seg.st-cancelled{fill:var(--stop-bg);stroke:var(--stop)}
.seg.st-success{fill:var(--ok)}.seg.st-failure{fill:var(--bad)}
.timeline .label{text-anchor:end;dominant-baseline:central}.timeline .tick{stroke:var(--line)}
.timeline .tick-label{text-anchor:middle;fill:var(--muted);font-size:11px}
.search{position:sticky;top:0;background:var(--bg);padding:8px 0;display:flex;gap:12px;align-items:center;z-index:1}
.search input{flex:0 1 420px;padding:5px 8px;border:1px solid var(--line);border-radius:6px;background:var(--bg);color:var(--fg)}
details.log{border:1px solid var(--line);border-radius:6px;margin:6px 0}
details.log>summary{cursor:pointer;padding:6px 10px;background:var(--alt)}
details.log pre{margin:0;padding:8px 10px;max-height:480px;overflow:auto;white-space:pre-wrap;word-break:break-all}
mark{background:#fff3a3;color:#1f2328}mark.current{background:#ffb000}
`.trim()

/**
 * The report's only script: searching the logs. It filters the logs to those whose text
 * or instance matches, opens them, marks every match, and moves between matches with
 * Enter (Shift+Enter back). An empty search restores the page as it opened.
 */
export const REPORT_SCRIPT = `
(() => {
  const box = document.getElementById('search')
  const hits = document.getElementById('hits')
  const logs = [...document.querySelectorAll('details.log')]
  const texts = new Map()
  let marks = []
  let current = -1
  let timer
  const MAX_MARKS = 1000
  function show(index) {
    if (marks.length === 0) return
    marks[current]?.classList.remove('current')
    current = (index + marks.length) % marks.length
    marks[current].classList.add('current')
    marks[current].scrollIntoView({ block: 'center' })
  }
  function search() {
    const term = box.value
    marks = []
    current = -1
    let found = 0
    for (const log of logs) {
      const pre = log.querySelector('pre')
      if (!texts.has(pre)) texts.set(pre, pre.textContent)
      const text = texts.get(pre)
      if (term === '') {
        pre.textContent = text
        log.hidden = false
        log.open = log.dataset.status === 'failure'
        continue
      }
      // Lower-casing may change a text's length (a few scripts): then the case must match.
      const folded = text.toLowerCase()
      const [hay, needle] = folded.length === text.length ? [folded, term.toLowerCase()] : [text, term]
      let at = hay.indexOf(needle)
      const named = log.dataset.id.toLowerCase().includes(term.toLowerCase())
      if (at < 0 && !named) {
        pre.textContent = text
        log.hidden = true
        continue
      }
      found++
      log.hidden = false
      log.open = true
      const parts = document.createDocumentFragment()
      let from = 0
      while (at >= 0 && marks.length < MAX_MARKS) {
        parts.append(text.slice(from, at))
        const mark = document.createElement('mark')
        mark.textContent = text.slice(at, at + needle.length)
        marks.push(mark)
        parts.append(mark)
        from = at + needle.length
        at = hay.indexOf(needle, from)
      }
      parts.append(text.slice(from))
      pre.replaceChildren(parts)
    }
    hits.textContent = term === '' ? '' :
      found + ' of ' + logs.length + ' logs match, ' + marks.length + (marks.length === MAX_MARKS ? '+' : '') + ' matches'
  }
  box.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(search, 120) })
  box.addEventListener('keydown', (event) => {
    if (event.key !== 'Enter') return
    clearTimeout(timer)
    if (marks.length === 0) search()
    show(current + (event.shiftKey ? -1 : 1))
  })
})()
`.trim()

/** A CSP source for an inline element's exact text: only that text may run or style. */
function hashSource(text: string): string {
  return `'sha256-${createHash('sha256').update(text).digest('base64')}'`
}

/**
 * The report's Content-Security-Policy: nothing from the network at all, and no script or
 * style but the report's own, so that a log line that slipped past escaping still could
 * not run. SVG presentation attributes are not styles; the page has no `style=`.
 */
export const REPORT_CSP = [
  "default-src 'none'",
  `style-src ${hashSource(REPORT_CSS)}`,
  `script-src ${hashSource(REPORT_SCRIPT)}`,
  "base-uri 'none'",
  "form-action 'none'"
].join('; ')
