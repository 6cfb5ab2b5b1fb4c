//! Unit tests of [`FaultFs`](super::FaultFs).

use super::*;
use crate::fs::DirLock;

fn setup() -> (FaultFs, PathBuf) {
    let fs = FaultFs::new();
    let dir = PathBuf::from("/db");
    fs.create_dir_all(&dir).unwrap();
    (fs, dir)
}

#[test]
fn a_halted_machine_changes_nothing_until_restarted() {
    let (fs, dir) = setup();
    let a = dir.join("a");
    let mut w = fs.create(&a).unwrap();
    w.append(b"kept").unwrap();
    fs.halt();
    assert!(w.append(b" lost").is_err());
    assert!(w.sync().is_err());
    assert!(fs.create(&dir.join("b")).is_err());
    assert!(fs.remove(&a).is_err());
    assert!(fs.list(&dir).is_err());
    fs.restart();
    assert_eq!(fs.read_all(&a).unwrap(), b"kept");
    assert!(!fs.exists(&dir.join("b")).unwrap());
}

#[test]
fn power_loss_keeps_only_synced_bytes_of_durable_names() {
    let (fs, dir) = setup();
    let a = dir.join("a");
    let mut w = fs.create(&a).unwrap();
    w.append(b"synced").unwrap();
    w.sync().unwrap();
    w.append(b" lost").unwrap();
    fs.sync_dir(&dir).unwrap();
    let b = dir.join("b");
    let mut wb = fs.create(&b).unwrap();
    wb.append(b"never in a synced directory").unwrap();
    wb.sync().unwrap();

    fs.power_loss();
    assert_eq!(fs.read_all(&a).unwrap(), b"synced");
    assert!(!fs.exists(&b).unwrap());
    // Handles from before the crash are dead.
    assert!(w.append(b"x").is_err());
}

/// Writeback that reached some files further than others: each file keeps
/// its synced bytes and a prefix of the rest, the choice differs between
/// files and seeds, and a seed always makes the same choice.
#[test]
fn power_loss_with_writeback_keeps_a_prefix_per_file() {
    let run = |seed: u64| {
        let (fs, dir) = setup();
        let mut written = Vec::new();
        for i in 0..16 {
            let path = dir.join(format!("f{i}"));
            let mut w = fs.create(&path).unwrap();
            w.append(b"synced").unwrap();
            w.sync().unwrap();
            let rest: Vec<u8> = (0..200u32).map(|b| b as u8).collect();
            w.append(&rest).unwrap();
            written.push((path, [&b"synced"[..], &rest].concat()));
        }
        fs.sync_dir(&dir).unwrap();
        fs.power_loss_with_writeback(seed);
        written
            .iter()
            .map(|(path, all)| {
                let kept = fs.read_all(path).unwrap();
                assert!(kept.len() >= 6, "synced bytes survive");
                assert_eq!(kept[..], all[..kept.len()], "a prefix of what was written");
                kept.len()
            })
            .collect::<Vec<_>>()
    };
    let lens = run(7);
    assert_eq!(run(7), lens, "the same seed keeps the same bytes");
    assert!(
        lens.contains(&6),
        "some file kept none of its unsynced bytes: {lens:?}"
    );
    assert!(lens.contains(&206), "some file kept all of them: {lens:?}");
    assert!(
        lens.iter().any(|&l| l > 6 && l < 206),
        "some file kept a part: {lens:?}"
    );
    assert_ne!(run(8), lens, "another seed chooses differently");
}

#[test]
fn crash_keeps_unsynced_bytes() {
    let (fs, dir) = setup();
    let a = dir.join("a");
    let mut w = fs.create(&a).unwrap();
    w.append(b"in the page cache").unwrap();
    fs.crash();
    assert_eq!(fs.read_all(&a).unwrap(), b"in the page cache");
}

#[test]
fn rename_is_durable_only_after_dir_sync() {
    let (fs, dir) = setup();
    let (tmp, cur) = (dir.join("tmp"), dir.join("CURRENT"));
    let mut w = fs.create(&cur).unwrap();
    w.append(b"old").unwrap();
    w.sync().unwrap();
    fs.sync_dir(&dir).unwrap();
    let mut w = fs.create(&tmp).unwrap();
    w.append(b"new").unwrap();
    w.sync().unwrap();
    fs.rename(&tmp, &cur).unwrap();
    assert_eq!(fs.read_all(&cur).unwrap(), b"new");
    fs.power_loss();
    assert_eq!(fs.read_all(&cur).unwrap(), b"old");
}

#[test]
fn injected_faults_fire_once_or_from_then_on() {
    let (fs, dir) = setup();
    let mut w = fs.create(&dir.join("f")).unwrap();
    fs.fail_nth(FsOp::Append, 1);
    w.append(b"a").unwrap();
    assert!(w.append(b"b").is_err());
    w.append(b"c").unwrap();
    fs.fail_from(FsOp::Sync, 0);
    assert!(w.sync().is_err());
    assert!(w.sync().is_err());
    fs.clear_faults();
    w.sync().unwrap();
    assert_eq!(fs.read_all(&dir.join("f")).unwrap(), b"ac");
}

#[test]
fn a_tear_that_keeps_every_byte_still_fails() {
    let (fs, dir) = setup();
    let mut w = fs.create(&dir.join("f")).unwrap();
    fs.tear_nth_append(0, 100);
    assert!(w.append(b"abc").is_err());
    assert_eq!(fs.read_all(&dir.join("f")).unwrap(), b"abc");
    fs.fail_nth(FsOp::CreateDir, 0);
    assert!(fs.create_dir_all(Path::new("/other")).is_err());
}

#[test]
fn torn_append_writes_a_prefix() {
    let (fs, dir) = setup();
    let mut w = fs.create(&dir.join("f")).unwrap();
    fs.tear_nth_append(0, 3);
    assert!(w.append(b"abcdef").is_err());
    assert_eq!(w.len(), 3);
    assert_eq!(fs.read_all(&dir.join("f")).unwrap(), b"abc");
}

#[test]
fn reads_past_end_and_missing_files_are_errors() {
    let (fs, dir) = setup();
    assert_eq!(
        fs.open(&dir.join("nope")).err().map(|e| e.kind()),
        Some(io::ErrorKind::NotFound)
    );
    assert!(fs.create(Path::new("/no/such/dir/f")).is_err());
    let mut w = fs.create(&dir.join("f")).unwrap();
    w.append(b"abc").unwrap();
    let r = fs.open(&dir.join("f")).unwrap();
    let mut buf = [0; 2];
    assert!(r.read_at(2, &mut buf).is_err());
    assert!(r.read_at(u64::MAX, &mut buf).is_err());
    assert_eq!(fs.list(&dir).unwrap(), vec!["f".to_string()]);
}

#[test]
fn lock_is_exclusive_and_released_by_drop_or_crash() {
    let (fs, dir) = setup();
    let l = DirLock::acquire(&fs, &dir).unwrap();
    assert!(matches!(
        DirLock::acquire(&fs, &dir),
        Err(crate::Error::Locked { .. })
    ));
    drop(l);
    let _held = DirLock::acquire(&fs, &dir).unwrap();
    fs.crash();
    DirLock::acquire(&fs, &dir).unwrap();
}

#[test]
fn injected_errors_carry_the_chosen_kind() {
    let (fs, dir) = setup();
    let mut w = fs.create(&dir.join("000001.log")).unwrap();
    fs.inject(Fault::on(FsOp::Append).error(FaultError::Eio));
    let eio = w.append(b"a").unwrap_err();
    fs.inject(Fault::on(FsOp::Sync).error(FaultError::NoSpace));
    let nospc = w.sync().unwrap_err();
    assert_eq!(nospc.kind(), io::ErrorKind::StorageFull);
    if cfg!(unix) {
        assert_eq!(eio.raw_os_error(), Some(5));
        assert_eq!(nospc.raw_os_error(), Some(28));
    }
    fs.fail_nth(FsOp::Append, 0);
    let other = w.append(b"b").unwrap_err();
    assert_eq!(other.kind(), io::ErrorKind::Other);
    assert!(other.to_string().contains("injected fault in Append"));
    w.append(b"c").unwrap();
    assert_eq!(fs.read_all(&dir.join("000001.log")).unwrap(), b"c");
}

#[test]
fn a_fault_on_a_file_name_counts_only_calls_on_matching_files() {
    let (fs, dir) = setup();
    let mut log = fs.create(&dir.join("000001.log")).unwrap();
    let mut sst = fs.create(&dir.join("000002.sst")).unwrap();
    fs.inject(Fault::on(FsOp::Append).file(".sst").nth(1).persistent());
    log.append(b"1").unwrap();
    sst.append(b"1").unwrap();
    log.append(b"2").unwrap();
    assert!(sst.append(b"2").is_err());
    assert!(sst.append(b"3").is_err());
    log.append(b"3").unwrap();
    // A rename matches on either name.
    fs.inject(Fault::on(FsOp::Rename).file("CURRENT"));
    assert!(
        fs.rename(&dir.join("000002.sst"), &dir.join("CURRENT"))
            .is_err()
    );
    fs.rename(&dir.join("000002.sst"), &dir.join("000003.sst"))
        .unwrap();
    fs.clear_faults();
    sst.append(b"4").unwrap();
}

#[test]
fn halt_at_freezes_the_machine_at_one_call_and_the_trace_names_it() {
    let (fs, dir) = setup();
    fs.trace_ops(true);
    let start = fs.op_total();
    fs.halt_at(2);
    let mut w = fs.create(&dir.join("f")).unwrap();
    w.append(b"a").unwrap();
    assert!(w.sync().is_err(), "call 2 from the halt_at is the sync");
    assert!(fs.is_halted());
    assert!(w.append(b"b").is_err());
    let trace = fs.trace();
    let calls: Vec<_> = trace
        .iter()
        .map(|t| (t.index - start, t.op, t.failed))
        .collect();
    assert_eq!(
        calls,
        [
            (0, FsOp::Create, false),
            (1, FsOp::Append, false),
            (2, FsOp::Sync, true)
        ]
    );
    assert_eq!(trace[2].path, dir.join("f"));
    assert_eq!(
        fs.op_total(),
        start + 3,
        "calls refused while halted do not count"
    );
    fs.power_loss();
    fs.restart();
    assert_eq!(
        fs.read_all(&dir.join("f")).err().map(|e| e.kind()),
        Some(io::ErrorKind::NotFound)
    );
}

#[test]
fn a_full_disk_writes_what_fits_then_fails_with_enospc_until_space_is_freed() {
    let (fs, dir) = setup();
    let mut a = fs.create(&dir.join("a")).unwrap();
    a.append(&[1; 60]).unwrap();
    assert_eq!(fs.used_bytes(), 60);
    fs.set_capacity(Some(100));
    let mut b = fs.create(&dir.join("b")).unwrap();
    b.append(&[2; 30]).unwrap();
    let e = b.append(&[3; 30]).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::StorageFull);
    assert_eq!(
        fs.file_len(&dir.join("b")),
        Some(40),
        "what fits is written"
    );
    assert_eq!(b.len(), 40);
    assert!(b.append(b"x").is_err(), "full");
    b.append(b"").unwrap();
    // Removing a file frees its bytes.
    fs.remove(&dir.join("a")).unwrap();
    b.append(&[4; 60]).unwrap();
    assert!(b.append(b"x").is_err(), "full again");
    // So does raising the capacity; a power loss keeps it.
    fs.set_capacity(Some(200));
    b.append(&[5; 50]).unwrap();
    b.sync().unwrap();
    fs.sync_dir(&dir).unwrap();
    fs.power_loss();
    assert_eq!(fs.used_bytes(), 150);
    let mut c = fs.create(&dir.join("c")).unwrap();
    assert!(c.append(&[6; 51]).is_err());
    fs.set_capacity(None);
    c.append(&[6; 1000]).unwrap();
}
