//! A missing, dangling or garbled `CURRENT` gives a clear, distinct error
//! (never a panic, never an empty state).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io;

use strata::manifest::{ManifestWriter, database_exists, recover};
use strata_core::{Error, FileSystem, StdFs};

#[test]
fn missing_current_means_not_a_database() {
    let (fs, dir) = common::fresh_fs();
    assert!(!database_exists(&fs, &dir).unwrap());
    match recover(&fs, &dir).unwrap_err() {
        Error::Io(e) => {
            assert_eq!(e.kind(), io::ErrorKind::NotFound);
            assert!(e.to_string().contains("not a strata database"), "{e}");
        }
        e => panic!("{e}"),
    }
}

#[test]
fn current_naming_a_missing_manifest_is_corruption_of_current() {
    let (fs, dir) = common::fresh_fs();
    let history = common::edit_history(2);
    common::write_manifest(&fs, &dir, &history);
    assert!(database_exists(&fs, &dir).unwrap());
    fs.remove(&dir.join("MANIFEST-000001")).unwrap();
    match recover(&fs, &dir).unwrap_err() {
        Error::Corruption { file, reason, .. } => {
            assert_eq!(file, dir.join("CURRENT"));
            assert!(reason.contains("MANIFEST-000001"), "{reason}");
        }
        e => panic!("{e}"),
    }
}

#[test]
fn garbage_current_is_corruption_at_offset_zero() {
    let (fs, dir) = common::fresh_fs();
    let history = common::edit_history(2);
    common::write_manifest(&fs, &dir, &history);
    let current = dir.join("CURRENT");
    assert_eq!(fs.read_all(&current).unwrap(), b"MANIFEST-000001\n");
    for garbage in [
        &b""[..],
        b"MANIFEST-000001",
        b"MANIFEST-000001\n\n",
        b"MANIFEST-1\n",
        b"MANIFEST-000001\r\n",
        b" MANIFEST-000001\n",
        b"manifest-000001\n",
        b"\xff\xfe\n",
        b"MANIFEST-999999999999999999999\n",
        &[0u8; 16],
    ] {
        common::overwrite(&fs, &current, garbage);
        match recover(&fs, &dir).unwrap_err() {
            Error::Corruption { file, offset, .. } => {
                assert_eq!((file, offset), (current.clone(), 0), "{garbage:?}");
            }
            e => panic!("{garbage:?}: {e}"),
        }
    }
}

#[test]
fn an_empty_manifest_is_corruption() {
    let (fs, dir) = common::fresh_fs();
    let history = common::edit_history(2);
    let path = common::write_manifest(&fs, &dir, &history);
    common::overwrite(&fs, &path, b"");
    let err = recover(&fs, &dir).unwrap_err();
    assert!(err.is_corruption(), "{err}");
}

#[test]
fn works_on_the_real_file_system_and_ignores_leftover_temp_files() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let fs = StdFs;
    let history = common::edit_history(6);
    let mut w = ManifestWriter::create(&fs, dir, 1, &history[0].1).unwrap();
    for (e, _) in &history[1..] {
        w.append(e).unwrap();
    }
    // A crashed switch's leftovers: a temp file and an unnamed manifest.
    std::fs::write(dir.join("000099.dbtmp"), b"MANIFEST-000099\n").unwrap();
    std::fs::write(dir.join("MANIFEST-000099"), b"junk").unwrap();
    let r = recover(&fs, dir).unwrap();
    assert_eq!(r.state, history[5].1);
    assert_eq!(r.manifest_size, w.size());
    let names = fs.list(dir).unwrap();
    assert!(names.contains(&"CURRENT".to_string()), "{names:?}");
    assert!(
        !names.iter().any(|n| n.starts_with("000001")),
        "no temp file left after a clean switch: {names:?}"
    );
}
