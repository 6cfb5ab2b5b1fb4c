//! The `manifest_edit_decode` body: one manifest record, decoded,
//! re-encoded and applied.

use std::path::Path;

use crate::manifest::{ManifestState, VersionEdit};

/// Decodes `data` as one manifest record. Whatever decodes must re-encode to
/// bytes that decode to the same edit, and applying it to an empty state
/// must either fail cleanly or yield a state whose snapshot recreates it.
pub fn manifest_edit_decode(data: &[u8]) {
    let path = Path::new("fuzz-MANIFEST");
    let Ok(edit) = VersionEdit::decode_from(data, path, 0) else {
        return;
    };
    let reencoded = edit.encode();
    let again = VersionEdit::decode_from(&reencoded, path, 0);
    assert!(
        matches!(&again, Ok(e) if *e == edit),
        "re-encoded edit decodes differently"
    );
    assert_eq!(again.map(|e| e.encode()).ok(), Some(reencoded));
    let mut state = ManifestState::new();
    if state.apply(&edit).is_ok() {
        let mut rebuilt = ManifestState::new();
        assert!(rebuilt.apply(&state.snapshot_edit()).is_ok());
        assert_eq!(rebuilt, state);
    }
}
