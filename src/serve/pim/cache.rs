//! The disk cache of calibrations: one JSON file per key, so that a run does not re-measure
//! the RTL. A key is the text of everything a calibration depends on (format version, hash of
//! the RTL sources and presets, the preset entries, head dimension, clocks, seed); the file is
//! named after the key's hash and holds the key itself, so that a hash collision or a stale
//! file is a miss, not a wrong answer. Files are written to a temporary name and renamed, so a
//! reader never sees half a file; a file that does not parse is reported and measured anew.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::PimError;

/// Bumped whenever what is measured or how it is stored changes.
pub const FORMAT_VERSION: u32 = 5;

/// FNV-1a (64 bit): stable across builds and toolchains (file names and seeds depend on it).
pub fn fnv64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3))
}

/// One cache file: its key and what was measured.
#[derive(Serialize, Deserialize)]
struct Entry<T> {
    key: String,
    data: T,
}

/// The file of `key` under `dir`, named `<stem>-<hash>.json`.
pub fn path_of(dir: &Path, stem: &str, key: &str) -> PathBuf {
    dir.join(format!("{stem}-{:016x}.json", fnv64(key.as_bytes())))
}

/// What the file at `path` holds for `key`: `None` when it is missing, or (with a warning on
/// standard error) when it does not parse or holds another key.
pub fn load<T: DeserializeOwned>(path: &Path, key: &str) -> Option<T> {
    let text = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => {
            eprintln!("warning: calibration cache {}: {e}; measuring again", path.display());
            return None;
        }
    };
    match serde_json::from_str::<Entry<T>>(&text) {
        Ok(e) if e.key == key => Some(e.data),
        Ok(_) => {
            eprintln!("warning: calibration cache {}: holds another key; measuring again", path.display());
            None
        }
        Err(e) => {
            eprintln!("warning: calibration cache {} is corrupt ({e}); measuring again", path.display());
            None
        }
    }
}

/// Writes `data` for `key` to `path` atomically (a temporary file in the same directory,
/// renamed over the target).
pub fn store<T: Serialize>(path: &Path, key: &str, data: &T) -> Result<(), PimError> {
    let io = |e: std::io::Error| PimError::Cache { path: path.to_path_buf(), source: e };
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(io)?;
    let text = serde_json::to_string_pretty(&Entry { key: key.to_string(), data })
        .map_err(|e| io(std::io::Error::other(e)))?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let mut f = fs::File::create(&tmp).map_err(io)?;
    f.write_all(text.as_bytes()).and_then(|_| f.sync_all()).map_err(io)?;
    drop(f);
    fs::rename(&tmp, path).map_err(|e| {
        let _ = fs::remove_file(&tmp);
        io(e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_corrupt_files_are_misses() {
        let dir = std::env::temp_dir().join(format!("pam-cache-test-{}", std::process::id()));
        let p = path_of(&dir, "x", "key one");
        assert_eq!(load::<Vec<f64>>(&p, "key one"), None);
        store(&p, "key one", &vec![1.5, 2.0]).unwrap();
        assert_eq!(load::<Vec<f64>>(&p, "key one"), Some(vec![1.5, 2.0]));
        assert_eq!(load::<Vec<f64>>(&p, "key two"), None, "another key is a miss");
        fs::write(&p, "{ not json").unwrap();
        assert_eq!(load::<Vec<f64>>(&p, "key one"), None, "a corrupt file is a miss");
        assert_ne!(path_of(&dir, "x", "key one"), path_of(&dir, "x", "key two"));
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn fnv_is_the_published_function() {
        assert_eq!(fnv64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv64(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
