//! The compaction threads' CPU priority.
//!
//! When there are more busy threads than cores, the kernel shares CPU time
//! among them by weight. A compaction that runs at the same weight as the
//! threads serving reads preempts them for whole scheduler slices, which
//! shows as reads of a millisecond or more while a writer keeps compaction
//! busy. A few nice levels below, a compaction thread still gets every idle
//! core in full and yields only under contention. RocksDB offers the same
//! (`Env::LowerThreadPoolCPUPriority`).
//!
//! Linux only: there the nice value belongs to a thread. Elsewhere
//! `setpriority` would change the whole process, so nothing is changed.

/// Raises the calling thread's nice value by `by` levels, capped at 19,
/// so the kernel gives it a smaller share of a contended core.
///
/// Best effort: raising one's own nice value needs no privilege, and should
/// it fail anyway the thread keeps running at its priority, which is only
/// slower for the other threads, never wrong.
#[cfg(target_os = "linux")]
pub(crate) fn lower_current_thread(by: u8) {
    use rustix::process::{getpriority_process, setpriority_process};
    if by == 0 {
        return;
    }
    let me = Some(rustix::thread::gettid());
    if let Ok(now) = getpriority_process(me) {
        let _ = setpriority_process(me, (now + i32::from(by)).min(19));
    }
}

/// Does nothing: see the module docs.
#[cfg(not(target_os = "linux"))]
pub(crate) fn lower_current_thread(_by: u8) {}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use rustix::process::getpriority_process;

    fn own_nice() -> i32 {
        getpriority_process(Some(rustix::thread::gettid())).unwrap_or(i32::MIN)
    }

    #[test]
    fn raises_only_the_calling_threads_nice_value() {
        let before = own_nice();
        let lowered = std::thread::spawn(|| {
            let start = own_nice();
            lower_current_thread(3);
            (start, own_nice())
        })
        .join()
        .unwrap();
        assert_eq!(lowered, (before, (before + 3).min(19)));
        assert_eq!(own_nice(), before, "the spawning thread is unchanged");
    }

    #[test]
    fn caps_at_19_and_zero_changes_nothing() {
        let (capped, unchanged, base) = std::thread::spawn(|| {
            let base = own_nice();
            lower_current_thread(0);
            let unchanged = own_nice();
            lower_current_thread(40);
            (own_nice(), unchanged, base)
        })
        .join()
        .unwrap();
        assert_eq!(unchanged, base);
        assert_eq!(capped, 19);
    }
}
