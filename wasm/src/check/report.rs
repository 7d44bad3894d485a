//! The report as text for people: MUST findings first, then SHOULD, each as `file:line rule title: message`.

use super::{Report, Severity};
use std::fmt::Write;

pub fn render_text(report: &Report) -> String {
    let mut out = String::new();
    let musts = report.count(Severity::Must);
    let shoulds = report.count(Severity::Should);
    let _ = writeln!(
        out,
        "{}: {} ({musts} MUST, {shoulds} SHOULD; {} files, {} bytes read)",
        report.master,
        if report.passed() { "PASS" } else { "FAIL" },
        report.files_read,
        report.bytes_read
    );
    for severity in [Severity::Must, Severity::Should] {
        let mut findings: Vec<_> = report
            .findings
            .iter()
            .filter(|f| f.severity == severity)
            .collect();
        if findings.is_empty() {
            continue;
        }
        findings.sort_by(|a, b| (a.rule, &a.file).cmp(&(b.rule, &b.file)));
        let _ = writeln!(out, "\n{severity} ({}):", findings.len());
        for f in findings {
            let _ = writeln!(
                out,
                "  [{}] {}{} — {}: {}",
                f.rule, f.file, f.location, f.title, f.message
            );
        }
    }
    out
}
