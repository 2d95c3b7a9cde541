//! The report page: one HTML file with every figure's SVG inlined, its caption (what it
//! shows, the sweep and commit(s) it came from, its files) and a table of every point. CSS is
//! inline and nothing is fetched, so the page opens from a copy, an archive or a mail.
//!
//! Two small inline scripts make the page checkable by a headless browser: the first (in
//! `<head>`, before anything can fail) records script errors, failed loads and
//! `console.error` calls; the second, on `load`, measures each `figure[data-figure]`'s SVG and
//! writes what it found on `<body>`: `data-rendered-figures` (the figures whose SVG has a
//! non-zero size), `data-errors` (how many errors) and `data-error-log`, and `data-checked`.

use std::fmt::Write as _;

use super::figures::Chart;
use super::tables::PAGE_COLUMNS;
use crate::sweep::table::Results;

/// Records errors from the start of the page (see the module docs).
const CAPTURE: &str = r#"(function () {
  var log = [];
  window.__pamErrors = log;
  function note(m) { log.push(String(m)); }
  window.addEventListener('error', function (e) {
    var t = e.target;
    if (t && t !== window && (t.src || t.href)) { note('failed to load ' + (t.src || t.href)); }
    else { note((e.message || 'error') + ' at ' + (e.filename || '?') + ':' + (e.lineno || '?')); }
  }, true);
  window.addEventListener('unhandledrejection', function (e) { note('unhandled rejection: ' + e.reason); });
  var error = console.error;
  console.error = function () { note(Array.prototype.join.call(arguments, ' ')); error.apply(console, arguments); };
})();"#;

/// Measures the figures once the page has loaded (see the module docs).
const CHECK: &str = r#"window.addEventListener('load', function () {
  var shown = [];
  document.querySelectorAll('figure[data-figure]').forEach(function (f) {
    var svg = f.querySelector('svg');
    var r = svg ? svg.getBoundingClientRect() : { width: 0, height: 0 };
    f.setAttribute('data-rendered', Math.round(r.width) + 'x' + Math.round(r.height));
    if (r.width > 0 && r.height > 0) { shown.push(f.getAttribute('data-figure')); }
  });
  var b = document.body;
  b.setAttribute('data-rendered-figures', shown.join(' '));
  b.setAttribute('data-errors', String(window.__pamErrors.length));
  b.setAttribute('data-error-log', window.__pamErrors.join(' | '));
  b.setAttribute('data-checked', 'true');
});"#;

const CSS: &str = "
body { font: 15px/1.45 system-ui, -apple-system, 'Segoe UI', sans-serif; color: #222; margin: 0; background: #f6f6f4; }
header, main, footer { max-width: 1500px; margin: 0 auto; padding: 0 24px; }
header { padding-top: 18px; }
h1 { font-size: 26px; margin: 8px 0; }
h2 { font-size: 19px; margin: 0 0 8px; }
code { background: #ecece8; padding: 0 4px; border-radius: 3px; }
nav a { margin-right: 14px; }
figure { background: #fff; border: 1px solid #ddd; border-radius: 6px; margin: 22px 0; padding: 16px; }
figure .plot svg { display: block; max-width: 100%; height: auto; }
figcaption { margin-top: 8px; color: #333; }
figcaption .src { color: #555; font-size: 13px; }
.table { overflow-x: auto; background: #fff; border: 1px solid #ddd; border-radius: 6px; }
table { border-collapse: collapse; font-size: 12.5px; width: 100%; }
th, td { padding: 3px 8px; border-bottom: 1px solid #eee; text-align: right; white-space: nowrap; }
th { position: sticky; top: 0; background: #f0f0ec; }
td.t, th.t { text-align: left; }
tr.oom td { background: #fff1f0; }
footer { color: #777; font-size: 12px; padding-bottom: 24px; }
";

/// Escapes text for an HTML element or attribute.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The page of `results`, with `charts` and their SVGs (in the same order).
pub fn page(results: &Results, charts: &[Chart], svgs: &[String]) -> String {
    let e = escape;
    let mut commits: Vec<&str> = results.rows.iter().map(|r| r.commit.as_str()).collect();
    commits.sort_unstable();
    commits.dedup();
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>pam report: {sweep}</title>\n<script>\n{CAPTURE}\n</script>\n<style>{CSS}</style>\n</head>\n\
         <body data-sweep=\"{sweep}\" data-figures=\"{n}\">\n<header>\n\
         <h1>Evaluation of sweep <code>{sweep}</code></h1>\n\
         <p>Sweep file <code>{file}</code> · {points} points · {rows} rows · {commit_word} {commits}</p>\n<nav>",
        sweep = e(&results.sweep),
        n = charts.len(),
        file = e(&results.file),
        points = results.points,
        rows = results.rows.len(),
        commit_word = if commits.len() == 1 { "commit" } else { "commits" },
        commits = if commits.is_empty() { "none".to_string() } else { e(&commits.join(", ")) },
    );
    for c in charts {
        let _ = write!(h, "<a href=\"#fig-{}\">{}</a>", c.figure.name(), e(&c.title));
    }
    h.push_str("<a href=\"#points\">Every point</a></nav>\n</header>\n<main>\n");
    for (i, (c, svg)) in charts.iter().zip(svgs).enumerate() {
        let name = c.figure.name();
        let _ = write!(
            h,
            "<figure id=\"fig-{name}\" data-figure=\"{name}\" data-rows=\"{rows}\" data-panels=\"{panels}\">\n\
             <h2>{num}. {title}</h2>\n<div class=\"plot\">{svg}</div>\n<figcaption>\n<p>{desc}</p>\n",
            rows = c.rows,
            panels = c.panels.len(),
            num = i + 1,
            title = e(&c.title),
            desc = e(&c.description),
        );
        if let Some(why) = &c.empty {
            let _ = writeln!(h, "<p><strong>{}</strong></p>", e(why));
        }
        let shared = if c.shared.is_empty() { String::new() } else { format!(" Every panel: {}.", e(&c.shared)) };
        let _ = write!(
            h,
            "<p class=\"src\">From {prov}.{shared} Files: <a href=\"figures/{name}.svg\">figures/{name}.svg</a>, \
             <a href=\"tables/{name}.csv\">tables/{name}.csv</a>.</p>\n</figcaption>\n</figure>\n",
            prov = e(&c.provenance()),
        );
    }
    let _ = write!(
        h,
        "<section id=\"points\">\n<h2>Every point</h2>\n<p>{} rows of sweep <code>{}</code> (one per point, system and \
         offline batch); all columns in <a href=\"tables/points.csv\">tables/points.csv</a>. Red rows ran out of \
         memory.</p>\n<div class=\"table\"><table>\n<thead><tr>",
        results.rows.len(),
        e(&results.sweep),
    );
    let text_columns = ["point", "part", "system", "model", "trace", "peak", "commit"];
    let class = |name: &str| if text_columns.contains(&name) { " class=\"t\"" } else { "" };
    for (name, _) in PAGE_COLUMNS {
        let _ = write!(h, "<th{}>{}</th>", class(name), e(name));
    }
    h.push_str("</tr></thead>\n<tbody>\n");
    for r in &results.rows {
        h.push_str(if r.out_of_memory { "<tr class=\"oom\">" } else { "<tr>" });
        for (name, cell) in PAGE_COLUMNS {
            let _ = write!(h, "<td{}>{}</td>", class(name), e(&cell(r)));
        }
        h.push_str("</tr>\n");
    }
    let _ = write!(
        h,
        "</tbody></table></div>\n</section>\n</main>\n<footer><p>Written by <code>pam report</code> from \
         <code>results.json</code> of sweep <code>{}</code>.</p></footer>\n<script>\n{CHECK}\n</script>\n</body>\n</html>\n",
        e(&results.sweep),
    );
    h
}
