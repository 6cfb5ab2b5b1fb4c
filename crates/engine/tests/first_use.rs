//! The engine tried as a new user would: open, write, read, scan, flush,
//! reopen, with the defaults and a real directory.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use strata::{Db, Error, Options, WriteBatch};

fn collect(
    it: impl Iterator<Item = strata::Result<(strata::Bytes, strata::Bytes)>>,
) -> Vec<(String, String)> {
    it.map(|kv| {
        let (k, v) = kv.unwrap();
        (
            String::from_utf8(k.to_vec()).unwrap(),
            String::from_utf8(v.to_vec()).unwrap(),
        )
    })
    .collect()
}

#[test]
fn tried_as_a_new_user_would() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), Options::default()).unwrap();
    assert!(db.recovery_report().created);
    db.put("b", "2").unwrap();
    db.put("a", "1").unwrap();
    db.put("c", "3").unwrap();
    db.delete("c").unwrap();
    assert_eq!(db.get("a").unwrap().as_deref(), Some(&b"1"[..]));
    assert_eq!(db.get("c").unwrap(), None);
    assert_eq!(
        collect(db.scan::<&str, _>(..)),
        [("a".into(), "1".into()), ("b".into(), "2".into())]
    );
    assert_eq!(
        collect(db.scan::<&str, _>(..).rev()),
        [("b".into(), "2".into()), ("a".into(), "1".into())]
    );
    let mut batch = WriteBatch::new();
    batch.put(b"x1", b"one").unwrap();
    batch.put(b"x2", b"two").unwrap();
    db.write(batch).unwrap();
    assert_eq!(collect(db.prefix("x")).len(), 2);
    assert_eq!(db.increment("n", 3).unwrap(), 3);
    assert_eq!(db.increment("n", -5).unwrap(), -2);
    assert!(matches!(
        db.increment("x1", 1),
        Err(Error::InvalidArgument(_))
    ));

    db.flush().unwrap();
    let stats = db.stats();
    assert_eq!(stats.levels[0].files, 1);
    assert_eq!(stats.immutable_memtables, 0);
    db.put("after-flush", "yes").unwrap();
    assert_eq!(db.get("b").unwrap().as_deref(), Some(&b"2"[..]));
    db.close().unwrap();
    assert!(matches!(db.get("a"), Err(Error::Closed)));

    let db = Db::open(dir.path(), Options::default()).unwrap();
    let report = db.recovery_report().clone();
    assert!(!report.created);
    assert_eq!(report.records_replayed, 1);
    assert_eq!(db.get("after-flush").unwrap().as_deref(), Some(&b"yes"[..]));
    assert_eq!(db.get("n").unwrap().as_deref(), Some(&b"-2"[..]));
    assert_eq!(db.get("c").unwrap(), None);
    assert_eq!(db.stats().levels[0].files, 2);
    drop(db);

    // A second open of a locked directory is refused.
    let db = Db::open(dir.path(), Options::default()).unwrap();
    assert!(matches!(
        Db::open(dir.path(), Options::default()),
        Err(Error::Locked { .. })
    ));
    db.put_with_ttl("short", "lived", Duration::from_millis(1))
        .unwrap();
    std::thread::sleep(Duration::from_millis(5));
    assert_eq!(db.get("short").unwrap(), None);
}
