//! Version bookkeeping: file metadata, edits, and the state edits build.

mod edit;
mod file_meta;
mod state;

pub use edit::VersionEdit;
pub use file_meta::FileMetadata;
pub use state::{LevelFiles, ManifestState};

/// Number of levels, L0 through L6. Levels are stored on disk as numbers
/// below this; raising it is compatible, lowering it is not.
pub const MAX_LEVELS: usize = 7;
