//! JUnit XML, the format CI dashboards read: one `<testcase>` per regression case, its seed
//! as a property so that a red case can be replayed from the report alone.

use std::fmt::Write as _;
use std::path::Path;

use super::CaseResult;

fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => o.push(' '),
            c => o.push(c),
        }
    }
    o
}

pub fn render(suite: &str, run_seed: u64, cases: &[CaseResult]) -> String {
    let failures = cases.iter().filter(|c| !c.passed).count();
    let time: f64 = cases.iter().map(|c| c.seconds).sum();
    let mut x = String::new();
    writeln!(x, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>").unwrap();
    writeln!(x, "<testsuites tests=\"{}\" failures=\"{failures}\" time=\"{time:.3}\">", cases.len()).unwrap();
    writeln!(
        x,
        "  <testsuite name=\"pam.{}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" time=\"{time:.3}\">",
        esc(suite),
        cases.len()
    )
    .unwrap();
    writeln!(x, "    <properties><property name=\"run_seed\" value=\"{run_seed:#x}\"/></properties>").unwrap();
    for c in cases {
        writeln!(
            x,
            "    <testcase classname=\"pam.{}\" name=\"{}\" time=\"{:.4}\">",
            esc(suite),
            esc(&c.name),
            c.seconds
        )
        .unwrap();
        writeln!(x, "      <properties>").unwrap();
        writeln!(x, "        <property name=\"seed\" value=\"{:#x}\"/>", c.seed).unwrap();
        for (k, v) in &c.properties {
            writeln!(x, "        <property name=\"{}\" value=\"{}\"/>", esc(k), esc(v)).unwrap();
        }
        writeln!(x, "      </properties>").unwrap();
        if !c.passed {
            let first = c.message.lines().next().unwrap_or("");
            writeln!(
                x,
                "      <failure message=\"{}\">{}\nreplay: {}</failure>",
                esc(first),
                esc(&c.message),
                esc(&c.replay)
            )
            .unwrap();
        }
        writeln!(x, "    </testcase>").unwrap();
    }
    writeln!(x, "  </testsuite>\n</testsuites>").unwrap();
    x
}

pub fn write(path: &Path, suite: &str, run_seed: u64, cases: &[CaseResult]) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, render(suite, run_seed, cases))
}
