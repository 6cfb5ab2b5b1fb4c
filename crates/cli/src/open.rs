//! Opening the data directory, with messages that say what to do.

use std::path::Path;

use anyhow::bail;
use strata::{Db, Error, Options};

/// Whether a command may create the database when there is none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Create {
    /// `put`, `shell`: an absent database is created.
    IfMissing,
    /// `get`, `del`, `scan`, `stats`: an absent database is an error.
    Never,
}

/// Opens the database in `dir` with default options.
///
/// # Errors
/// With a one-line cause: the directory is locked (a server has it), there
/// is no database and `create` is [`Create::Never`], or the engine's error.
pub(crate) fn open_db(dir: &Path, create: Create) -> anyhow::Result<Db> {
    // `CURRENT` names the manifest of every strata database (docs/format.md).
    if create == Create::Never && !dir.join("CURRENT").is_file() {
        bail!(
            "no strata database in {} (`strata put` or `strata serve` creates one; \
             choose another with --data-dir)",
            dir.display()
        );
    }
    let options = Options::default().create_if_missing(create == Create::IfMissing);
    Db::open(dir, options).map_err(|e| match e {
        Error::Locked { .. } => in_use(dir),
        other => anyhow::Error::new(other)
            .context(format!("cannot open the database in {}", dir.display())),
    })
}

/// The message for [`Error::Locked`] on `dir`: a process (most likely a
/// server) has the directory open.
pub(crate) fn in_use(dir: &Path) -> anyhow::Error {
    anyhow::anyhow!(
        "data directory {} is in use by another process (a running `strata serve`?)",
        dir.display()
    )
}
