//! The `CURRENT` file: names the live manifest, replaced by atomic rename.
//!
//! Content: exactly `MANIFEST-NNNNNN\n` (the number in decimal, at least six
//! digits, zero-padded), nothing else.

use std::io;
use std::path::{Path, PathBuf};

use strata_core::{Error, FileSystem, Result};

/// Name of the file naming the live manifest.
pub const CURRENT_FILE_NAME: &str = "CURRENT";

const MANIFEST_PREFIX: &str = "MANIFEST-";

/// The file name of manifest `number`: `MANIFEST-NNNNNN`.
pub fn manifest_file_name(number: u64) -> String {
    format!("{MANIFEST_PREFIX}{number:06}")
}

/// Parses a manifest file name (as [`manifest_file_name`] writes it); `None`
/// for any other name.
pub fn parse_manifest_file_name(name: &str) -> Option<u64> {
    let digits = name.strip_prefix(MANIFEST_PREFIX)?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let number: u64 = digits.parse().ok()?;
    (manifest_file_name(number) == name).then_some(number)
}

/// The temporary file a manifest switch writes before renaming it to `CURRENT`.
pub(crate) fn temp_current_path(dir: &Path, number: u64) -> PathBuf {
    dir.join(format!("{number:06}.dbtmp"))
}

/// True if `dir` holds a `CURRENT` file, i.e. a database was created there.
///
/// # Errors
/// [`Error::Io`] if the file system cannot tell.
pub fn database_exists(fs: &dyn FileSystem, dir: &Path) -> Result<bool> {
    Ok(fs.exists(&dir.join(CURRENT_FILE_NAME))?)
}

/// Reads `CURRENT` and returns the manifest number it names.
///
/// # Errors
/// [`Error::Io`] with [`io::ErrorKind::NotFound`] if there is no `CURRENT`
/// (not a database); [`Error::Corruption`] if its content is not exactly one
/// manifest name and a newline; [`Error::Io`] for other I/O failures.
pub(crate) fn read_current(fs: &dyn FileSystem, dir: &Path) -> Result<u64> {
    let path = dir.join(CURRENT_FILE_NAME);
    // CURRENT is one short line; never let its size on disk drive an allocation.
    const MAX_CURRENT_LEN: u64 = 64;
    let read = || -> io::Result<Vec<u8>> {
        let file = fs.open(&path)?;
        let len = file.size()?.min(MAX_CURRENT_LEN + 1);
        let mut buf = vec![0; len as usize];
        file.read_at(0, &mut buf)?;
        Ok(buf)
    };
    let bytes = match read() {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(Error::Io(io::Error::new(
                io::ErrorKind::NotFound,
                format!(
                    "{} has no CURRENT file: not a strata database (or not yet created)",
                    dir.display()
                ),
            )));
        }
        Err(e) => return Err(e.into()),
    };
    let garbage = || {
        let shown = String::from_utf8_lossy(bytes.get(..64).unwrap_or(&bytes)).into_owned();
        Error::corruption(
            &path,
            0,
            format!("expected \"MANIFEST-NNNNNN\\n\", found {shown:?}"),
        )
    };
    let text = std::str::from_utf8(&bytes).map_err(|_| garbage())?;
    let name = text.strip_suffix('\n').ok_or_else(garbage)?;
    parse_manifest_file_name(name).ok_or_else(garbage)
}

/// The bytes `CURRENT` holds when it names manifest `number`.
pub(crate) fn current_contents(number: u64) -> Vec<u8> {
    format!("{}\n", manifest_file_name(number)).into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_oversized_current_is_corruption_without_reading_it_all() {
        use strata_core::FaultFs;
        let fs = FaultFs::new();
        let dir = Path::new("/db");
        fs.create_dir_all(dir).unwrap();
        let mut f = fs.create(&dir.join(CURRENT_FILE_NAME)).unwrap();
        let mut big = b"MANIFEST-000001\n".to_vec();
        big.resize(1 << 20, b'x');
        f.append(&big).unwrap();
        assert!(read_current(&fs, dir).unwrap_err().is_corruption());
    }

    #[test]
    fn manifest_names_parse_only_in_canonical_form() {
        assert_eq!(manifest_file_name(7), "MANIFEST-000007");
        assert_eq!(manifest_file_name(12_345_678), "MANIFEST-12345678");
        assert_eq!(parse_manifest_file_name("MANIFEST-000007"), Some(7));
        assert_eq!(
            parse_manifest_file_name("MANIFEST-12345678"),
            Some(12_345_678)
        );
        for bad in [
            "MANIFEST-7",
            "MANIFEST-0000007",
            "MANIFEST-",
            "MANIFEST-+00007",
            "MANIFEST-00000x",
            "manifest-000007",
            "MANIFEST-99999999999999999999999",
        ] {
            assert_eq!(parse_manifest_file_name(bad), None, "{bad}");
        }
    }
}
