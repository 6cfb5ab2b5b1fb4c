//! Version bookkeeping: file metadata, edits, the state edits build, and the
//! in-memory [`Version`] readers load.

mod edit;
mod file_meta;
mod memslot;
mod state;
mod table;
mod tree;

pub use edit::VersionEdit;
pub use file_meta::FileMetadata;
pub use state::{LevelFiles, ManifestState};

pub(crate) use memslot::MemSlot;
pub(crate) use table::{TableCache, TableHandle};
pub(crate) use tree::Version;

/// Number of levels, L0 through L6. Levels are stored on disk as numbers
/// below this; raising it is compatible, lowering it is not.
pub const MAX_LEVELS: usize = 7;
