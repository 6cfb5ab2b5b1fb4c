//! `strata shell`: the database opened in this process, and the REPL of
//! [`crate::shell`] on it.

use std::path::Path;
use std::process::ExitCode;

use crate::open::{Create, open_db};

pub(crate) fn run(dir: &Path) -> anyhow::Result<ExitCode> {
    let db = open_db(dir, Create::IfMissing)?;
    crate::shell::repl::run(&db, dir)?;
    db.close()?;
    Ok(ExitCode::SUCCESS)
}
