//! JSON text in, a record out: the seeds' JSON benchmark workload (a person
//! with a list of cars and a list of friends), parsed by `serde_json` into
//! an ordinary Rust struct that is also the exported record.

use ffi_export::export;
use serde::Deserialize;

/// A person, as the seeds' benchmark JSON describes one.
#[export]
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub name: String,
    pub age: u32,
    pub cars: Vec<String>,
    pub friends: Vec<Friend>,
}

/// A friend of a [`Profile`].
#[export]
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Friend {
    pub name: String,
    pub age: u32,
}

/// Parses a [`Profile`] from JSON text. (The seed's Go `parsejson` took a
/// bare `char*` and returned nothing the caller could check; here the text
/// crosses with its length, and a malformed or mistyped document is a
/// `JsonError` naming the line and column.)
#[export]
pub fn parse_json(text: &str) -> Result<Profile, JsonError> {
    serde_json::from_str(text).map_err(JsonError)
}

/// The error of [`parse_json`].
#[derive(Debug)]
pub struct JsonError(serde_json::Error);

impl std::fmt::Display for JsonError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}
