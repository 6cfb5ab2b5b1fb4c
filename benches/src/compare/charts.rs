//! SVG charts of a [`Report`]: grouped bars, one group per workload, one
//! bar per engine, on a logarithmic axis (throughputs span from thousands
//! of synced writes to millions of scanned entries per second). Drawn with
//! `plotters`' SVG backend, which writes text as SVG `<text>` elements, so
//! no fonts are needed at build or run time.

use std::path::{Path, PathBuf};

use plotters::prelude::*;

use super::{Engine, Report};
use crate::db_bench::StoreResult;

/// One chart's data: per engine, one value per workload (`None` where the
/// engine did not run it).
struct Series {
    engine: Engine,
    values: Vec<Option<f64>>,
}

/// Writes `ops.svg` (throughput) and `p99.svg` (99th percentile latency)
/// of `report` into `dir` (created if absent), names prefixed with
/// `prefix`; returns the paths written.
///
/// # Errors
/// Creating the directory or drawing failed.
pub fn write_charts(report: &Report, dir: &Path, prefix: &str) -> StoreResult<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let workloads = report.workload_names();
    let subtitle = format!(
        "{} keys, {} B values, cache {} MiB, compression {}{}",
        report.config.num,
        report.config.value_size,
        report.settings.cache_bytes >> 20,
        report.settings.compression.name(),
        if report.settings.sync {
            ", fsync per write"
        } else {
            ""
        }
    );
    let series = |f: fn(&super::WorkloadReport) -> f64| -> Vec<Series> {
        report
            .engines
            .iter()
            .map(|e| Series {
                engine: e.engine,
                values: workloads
                    .iter()
                    .map(|w| e.workload(w).map(f).filter(|v| *v > 0.0))
                    .collect(),
            })
            .collect()
    };
    let ops = dir.join(format!("{prefix}ops.svg"));
    bar_chart(
        &ops,
        &format!("Throughput, ops/s (higher is better); {subtitle}"),
        "operations per second (log scale)",
        &workloads,
        &series(|w| w.result.ops_per_sec),
    )?;
    let p99 = dir.join(format!("{prefix}p99.svg"));
    bar_chart(
        &p99,
        &format!("p99 latency, µs (lower is better); {subtitle}"),
        "99th percentile latency, µs (log scale)",
        &workloads,
        &series(|w| w.result.latency_us.p99),
    )?;
    Ok(vec![ops, p99])
}

fn color(engine: Engine) -> RGBColor {
    match engine {
        Engine::Strata => RGBColor(31, 119, 180),
        Engine::Fjall => RGBColor(255, 127, 14),
        Engine::Rocksdb => RGBColor(44, 160, 44),
    }
}

/// The power of ten just below the smallest value, and the one a decade
/// above the largest (that decade keeps the legend clear of the bars).
fn log_bounds(series: &[Series]) -> (f64, f64) {
    let values = || {
        series
            .iter()
            .flat_map(|s| s.values.iter().flatten().copied())
    };
    let lo = values().fold(f64::INFINITY, f64::min);
    let hi = values().fold(0.0, f64::max);
    if !lo.is_finite() || hi <= 0.0 {
        return (1.0, 10.0);
    }
    let lo = 10f64.powf(lo.log10().floor());
    let hi = 10f64.powf(hi.log10().ceil() + 1.0).max(lo * 10.0);
    (lo, hi)
}

fn bar_chart(
    path: &Path,
    title: &str,
    y_desc: &str,
    workloads: &[String],
    series: &[Series],
) -> StoreResult<()> {
    let root = SVGBackend::new(path, (1280, 640)).into_drawing_area();
    root.fill(&WHITE)?;
    let n = workloads.len().max(1);
    let (lo, hi) = log_bounds(series);
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(120)
        .y_label_area_size(90)
        .build_cartesian_2d(0f64..n as f64, (lo..hi).log_scale())?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_desc(y_desc)
        .y_label_formatter(&|v| engineering(*v))
        .draw()?;
    let width = 0.8 / series.len().max(1) as f64;
    for (k, s) in series.iter().enumerate() {
        let fill = color(s.engine).filled();
        let bars = s.values.iter().enumerate().filter_map(|(i, v)| {
            let x0 = i as f64 + 0.1 + k as f64 * width;
            v.map(|v| Rectangle::new([(x0, lo), (x0 + width, v)], fill))
        });
        chart
            .draw_series(bars)?
            .label(s.engine.name())
            .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 14, y + 6)], fill));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()?;
    // Workload names under their groups, turned to fit.
    let style = ("sans-serif", 14)
        .into_font()
        .transform(FontTransform::Rotate90)
        .color(&BLACK);
    for (i, name) in workloads.iter().enumerate() {
        let (x, y) = chart.backend_coord(&(i as f64 + 0.5, lo));
        root.draw(&Text::new(name.clone(), (x + 6, y + 8), style.clone()))?;
    }
    root.present()?;
    Ok(())
}

/// `1k`, `20k`, `3M`: short axis labels for powers of ten and friends.
fn engineering(v: f64) -> String {
    if v >= 1e6 {
        format!("{}M", trim(v / 1e6))
    } else if v >= 1e3 {
        format!("{}k", trim(v / 1e3))
    } else {
        trim(v)
    }
}

fn trim(v: f64) -> String {
    let s = format!("{v:.1}");
    s.strip_suffix(".0").map_or(s.clone(), str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_and_labels() {
        let s = vec![
            Series {
                engine: Engine::Strata,
                values: vec![Some(7_000.0), None, Some(2_600_000.0)],
            },
            Series {
                engine: Engine::Fjall,
                values: vec![Some(250.0)],
            },
        ];
        assert_eq!(log_bounds(&s), (100.0, 100_000_000.0));
        assert_eq!(log_bounds(&[]), (1.0, 10.0));
        assert_eq!(engineering(2_000_000.0), "2M");
        assert_eq!(engineering(1_500.0), "1.5k");
        assert_eq!(engineering(10.0), "10");
        assert_eq!(engineering(0.5), "0.5");
    }
}
