//! A config reader that asks its caller: `${name}` references are resolved
//! by a Python function and every entry is handed to another, both borrowed
//! for the one call (`&dyn Fn`, `impl FnMut`) and both taking and returning
//! strings, records and `Result`s. (No seed program: a seed callback could
//! only pass numbers.)

use ffi_export::export;

/// One `key = value` line of a section.
#[export]
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The `[section]` it is in (empty before the first header).
    pub section: String,
    /// The key.
    pub key: String,
    /// The value, references expanded.
    pub value: String,
}

/// Why a config could not be read.
#[export]
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A line that is neither a header, a comment nor `key = value`.
    #[error("line {line}: {message}")]
    Syntax {
        /// The line number, from 1.
        line: u32,
        /// What is wrong.
        message: String,
    },
    /// A `${name}` the caller does not know.
    #[error("unknown variable {name}")]
    Unknown {
        /// The variable.
        name: String,
    },
}

/// Reads `text` (`[section]` headers, `key = value` lines, `#` comments),
/// expands each `${name}` through `lookup` and gives each entry to `keep`;
/// returns how many it kept. Any exception of `lookup` or `keep` that is not
/// a `ConfigError` comes back to the caller as itself.
#[export]
pub fn read_config(
    text: &str,
    lookup: &dyn Fn(&str) -> Result<String, ConfigError>,
    mut keep: impl FnMut(Entry) -> bool,
) -> Result<u32, ConfigError> {
    let mut section = String::new();
    let mut kept = 0;
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.trim().to_owned();
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            return Err(ConfigError::Syntax {
                line: number as u32 + 1,
                message: format!("expected `key = value`, got `{line}`"),
            });
        };
        let entry = Entry {
            section: section.clone(),
            key: key.trim().to_owned(),
            value: expand(value.trim(), lookup)?,
        };
        if keep(entry) {
            kept += 1;
        }
    }
    Ok(kept)
}

/// `value` with each `${name}` replaced by `lookup(name)`.
fn expand(
    value: &str,
    lookup: &dyn Fn(&str) -> Result<String, ConfigError>,
) -> Result<String, ConfigError> {
    let mut out = String::new();
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        let Some(end) = rest[start..].find('}') else {
            break;
        };
        out.push_str(&rest[..start]);
        out.push_str(&lookup(&rest[start + 2..start + end])?);
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}
