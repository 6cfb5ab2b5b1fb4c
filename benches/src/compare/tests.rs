//! The comparison on strata alone, small: every workload runs and every
//! metric is filled in and sane.

use super::*;
use crate::db_bench::NoProgress;

fn small(dir: &Path) -> CompareConfig {
    CompareConfig {
        bench: BenchConfig {
            num: 2_000,
            synced_num: 128,
            threads: 2,
            ..BenchConfig::default()
        },
        engines: vec![Engine::Strata],
        settings: EngineSettings {
            // Small memtables, so tables and compactions happen.
            memtable_bytes: 64 << 10,
            ..EngineSettings::default()
        },
        ..CompareConfig::new(dir)
    }
}

#[test]
fn every_workload_runs_and_every_metric_is_sane() {
    let dir = tempfile::tempdir().unwrap();
    let config = small(dir.path());
    let mut seen = Vec::new();
    let report = run_compare(&config, &NoProgress, &mut |e, w| {
        seen.push((e, w.result.workload.clone()));
    })
    .unwrap();
    let names: Vec<&str> = Workload::ALL.iter().map(|w| w.name()).collect();
    assert_eq!(report.workload_names(), names);
    assert_eq!(seen.len(), names.len());
    assert_eq!(report.engines.len(), 1);
    let strata = report.engine(Engine::Strata).unwrap();
    for w in &strata.workloads {
        let r = &w.result;
        assert!(r.ops > 0 && r.ops_per_sec > 0.0, "{r}");
        let l = r.latency_us;
        assert!(
            0.0 < l.p50 && l.p50 <= l.p99 && l.p99 <= l.p999 && l.p999 <= l.max,
            "{r}"
        );
        assert!(w.vs_strata.is_none(), "strata is the baseline");
        let workload: Workload = r.workload.parse().unwrap();
        if workload.writes() {
            assert!(r.bytes_written > 0, "{r}");
            assert!(w.write_amp.is_some(), "{r}");
        } else {
            assert_eq!(r.bytes_written, 0, "{r}");
            assert_eq!(w.write_amp, None, "{r}");
        }
        assert!(w.dir_bytes > 0, "{r}: the WAL at least");
    }
    let entry = (KEY_LEN + 100) as u64;
    let by = |name: &str| strata.workload(name).unwrap();
    assert_eq!(by("fillrandom").live_bytes, 2_000 * entry);
    // Space amplification of a loaded store: at least the data, and not
    // wildly more (WAL + tables + a manifest, no compaction debt yet).
    let s = by("fillrandom").space_amp.unwrap();
    assert!((1.0..6.0).contains(&s), "space amp {s}");
    // YCSB E inserted 5 % of its operations as new keys, which survive
    // deleterandom.
    let inserted = by("ycsb-e").live_bytes - by("ycsb-b").live_bytes;
    assert!(inserted > 0 && inserted % entry == 0, "{inserted}");
    assert_eq!(by("deleterandom").live_bytes, inserted);
    assert_eq!(by("fillsync-64").result.threads, 64);
    assert_eq!(by("fillsync-64").result.ops, 128);
    assert_eq!(by("fillsync-1").live_bytes, 128 * entry);
    // The whole run wrote at least the user bytes (the WAL alone does).
    assert!(strata.write_amp.unwrap() >= 1.0, "{:?}", strata.write_amp);
    assert!(strata.user_bytes_written > 0);
    assert!(strata.peak_rss_bytes.unwrap() > 0);
    assert!(
        !dir.path().join("strata").exists(),
        "the engine's directory is removed"
    );
}

#[test]
fn reports_render_round_trip_and_compare_engines() {
    let dir = tempfile::tempdir().unwrap();
    let config = CompareConfig {
        workloads: vec![Workload::FillSeq, Workload::ReadRandom],
        ..small(dir.path())
    };
    let mut report = run_compare(&config, &NoProgress, &mut |_, _| {}).unwrap();
    // Pretend a second engine ran, twice as fast with half the p99.
    let mut peer = report.engines[0].clone();
    peer.engine = Engine::Fjall;
    for w in &mut peer.workloads {
        w.result.ops_per_sec *= 2.0;
        w.result.latency_us.p99 /= 2.0;
    }
    report.engines.push(peer);
    report.compute_ratios();
    let v = report.engines[1].workloads[1].vs_strata.unwrap();
    assert!((v.ops_per_sec - 2.0).abs() < 1e-9 && (v.p99 - 0.5).abs() < 1e-9);

    let text = report.render(TableStyle::Text);
    assert!(
        text.contains("readrandom") && text.contains("fjall"),
        "{text}"
    );
    assert!(text.contains("2.00×") && text.contains("0.50×"), "{text}");
    let md = report.render(TableStyle::Markdown);
    assert!(
        md.lines().any(|l| l.starts_with("| fillseq | strata |")),
        "{md}"
    );

    // JSON keeps everything the tables and charts use (floats may come
    // back one ulp off: serde_json parses them fast, not exactly).
    let json = serde_json::to_string(&report).unwrap();
    let back: Report = serde_json::from_str(&json).unwrap();
    assert_eq!(back.render(TableStyle::Text), text);
    assert_eq!(back.config, report.config);
    assert_eq!(back.settings, report.settings);
    assert_eq!(back.engines[1].io, report.engines[1].io);

    let svgs = charts::write_charts(&report, &dir.path().join("img"), "test-").unwrap();
    assert_eq!(svgs.len(), 2);
    for svg in svgs {
        let text = std::fs::read_to_string(&svg).unwrap();
        assert!(text.starts_with("<svg"), "{}", svg.display());
        for label in ["strata", "fjall", "fillseq", "readrandom"] {
            assert!(text.contains(label), "{label} in {}", svg.display());
        }
        // One bar per engine and workload, plus the legend's swatches.
        assert!(text.matches("<rect").count() >= 4);
    }
}

#[test]
fn an_engine_not_built_in_is_refused_up_front() {
    let dir = tempfile::tempdir().unwrap();
    for engine in [Engine::Fjall, Engine::Rocksdb] {
        if engine.compiled_in() {
            continue;
        }
        let config = CompareConfig {
            engines: vec![Engine::Strata, engine],
            ..small(dir.path())
        };
        let err = run_compare(&config, &NoProgress, &mut |_, _| {}).unwrap_err();
        assert!(err.to_string().contains("--features"), "{err}");
    }
}
