//! `strata verify`: [`strata::verify`] on a closed data directory, as one
//! line per file and a verdict, or as JSON; exit code 1 on any problem
//! (warnings, such as leftover files, do not count).

use std::io::Write;
use std::process::ExitCode;

use anyhow::bail;
use serde_json::{Value, json};
use strata::{Error, FileKind, FileReport, FileStatus, VerifyReport};

use crate::cli::VerifyArgs;
use crate::open::in_use;

pub(crate) fn run(args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let dir = &args.data.data_dir;
    if !dir.is_dir() {
        bail!(
            "no strata database in {}: the directory does not exist (choose another with \
             --data-dir)",
            dir.display()
        );
    }
    let report = strata::verify(dir).map_err(|e| match e {
        Error::Locked { .. } => in_use(dir),
        // "DIR holds no strata database (...)"
        Error::Io(io) if io.kind() == std::io::ErrorKind::NotFound => {
            anyhow::anyhow!("cannot verify: {io}")
        }
        other => anyhow::Error::new(other).context(format!("cannot verify {}", dir.display())),
    })?;
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&to_json(&report))?)?;
    } else {
        out.write_all(render(&report).as_bytes())?;
    }
    out.flush()?;
    Ok(if report.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// One line per file, a summary line, then the verdict: `OK ...` or
/// `CORRUPT: N problem(s): PATH at offset N, ...`.
fn render(report: &VerifyReport) -> String {
    let mut s = format!("verifying {}\n", report.dir.display());
    for file in &report.files {
        s.push_str(&format!("{file}\n"));
    }
    let tables: Vec<&FileReport> = report
        .files
        .iter()
        .filter(|f| f.kind == FileKind::Table)
        .collect();
    // Only tables read whole know their entries.
    let entries: u64 = tables.iter().filter_map(|f| f.entries).sum();
    let damaged = tables.iter().filter(|f| f.is_problem()).count();
    let problems: Vec<&FileReport> = report.problems().collect();
    let warnings = report.warnings().count();
    s.push_str(&format!(
        "{} files checked: {} table(s) holding {entries} entries{}; {} problem(s), \
         {warnings} warning(s)\n",
        report.files.len(),
        tables.len(),
        if damaged > 0 {
            format!(" ({damaged} damaged, not counted)")
        } else {
            String::new()
        },
        problems.len(),
    ));
    if problems.is_empty() {
        s.push_str("OK\n");
    } else {
        let named: Vec<String> = problems
            .iter()
            .map(|f| match offset(&f.status) {
                Some(at) => format!("{} at offset {at}", f.path.display()),
                None => f.path.display().to_string(),
            })
            .collect();
        s.push_str(&format!(
            "CORRUPT: {} problem(s): {}\n",
            problems.len(),
            named.join(", ")
        ));
    }
    s
}

fn offset(status: &FileStatus) -> Option<u64> {
    match status {
        FileStatus::Warning { offset, .. } | FileStatus::Problem { offset, .. } => *offset,
        _ => None,
    }
}

/// The report as JSON: `ok`, counts, and one object per file.
fn to_json(report: &VerifyReport) -> Value {
    let files: Vec<Value> = report
        .files
        .iter()
        .map(|f| {
            let (status, reason) = match &f.status {
                FileStatus::Problem { reason, .. } => ("problem", Some(reason)),
                FileStatus::Warning { reason, .. } => ("warning", Some(reason)),
                _ => ("ok", None),
            };
            json!({
                "path": f.path.display().to_string(),
                "kind": f.kind.to_string(),
                "status": status,
                "offset": offset(&f.status),
                "reason": reason,
                "size": f.size,
                "level": f.level,
                "entries": f.entries,
                "blocks": f.blocks,
            })
        })
        .collect();
    json!({
        "dir": report.dir.display().to_string(),
        "ok": report.is_ok(),
        "problems": report.problems().count(),
        "warnings": report.warnings().count(),
        "files": files,
    })
}
