//! Draws the charts of a comparison report (`compare --json FILE`): SVGs of
//! throughput and p99 latency per workload per engine.
//!
//! ```text
//! cargo run --release -p strata-benches --bin charts -- REPORT.json [--out DIR] [--prefix P] [--markdown]
//! ```
//! Writes `DIR/Pops.svg` and `DIR/Pp99.svg` (default DIR `docs/img`, P
//! `compare-`) and prints their paths; `--markdown` also prints the
//! report's tables in Markdown, as docs/benchmarks.md shows them.
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;

use strata_benches::compare::charts::write_charts;
use strata_benches::compare::{Report, TableStyle};
use strata_benches::workloads::cli_arg;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(input) = args.first().filter(|a| !a.starts_with("--")) else {
        eprintln!("usage: charts REPORT.json [--out DIR] [--prefix P] [--markdown]");
        return ExitCode::from(2);
    };
    let out = PathBuf::from(cli_arg(&args, "--out").unwrap_or_else(|| "docs/img".into()));
    let prefix = cli_arg(&args, "--prefix").unwrap_or_else(|| "compare-".into());
    let report: Report = match std::fs::read_to_string(input)
        .map_err(|e| e.to_string())
        .and_then(|text| serde_json::from_str(&text).map_err(|e| e.to_string()))
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot read the report {input}: {e}");
            return ExitCode::FAILURE;
        }
    };
    match write_charts(&report, &out, &prefix) {
        Ok(paths) => {
            for p in paths {
                println!("{}", p.display());
            }
            if args.iter().any(|a| a == "--markdown") {
                print!("\n{}", report.render(TableStyle::Markdown));
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("cannot draw the charts: {e}");
            ExitCode::FAILURE
        }
    }
}
