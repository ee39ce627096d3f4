//! A router whose plugins cross inside other values, both ways: Python
//! handlers (an `#[export]` trait) and Python formatters (stored closures)
//! installed through one record holding a `Vec<Arc<dyn Handler>>`, a map of
//! `Box<dyn Fn(String) -> String + Send + Sync>` and an
//! `Option<Box<dyn Handler>>`; built-in handlers and formatters implemented
//! in Rust and returned in a `Vec` and a map. (No seed program: a seed
//! callback could not be kept, let alone inside a list.)

use ffi_export::export;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Why a request could not be answered.
#[export]
#[derive(Debug, thiserror::Error)]
pub enum RouteError {
    /// No handler serves the path and there is no fallback.
    #[error("no handler for {path}")]
    NotFound {
        /// The path asked for.
        path: String,
    },
    /// No formatter has that name.
    #[error("no formatter named {name}")]
    NoFormatter {
        /// The name asked for.
        name: String,
    },
}

/// Answers requests under one path prefix; implemented in Python or Rust.
#[export]
pub trait Handler: Send + Sync {
    /// The prefix it serves (`/hello`).
    fn prefix(&self) -> String;
    /// Its answer to `path`.
    fn respond(&self, path: String) -> String;
}

/// Turns an answer into its output form.
pub type Formatter = Box<dyn Fn(String) -> String + Send + Sync>;

/// Plugins to install, all at once.
#[export]
pub struct Plugins {
    /// Handlers, tried longest prefix first.
    pub handlers: Vec<Arc<dyn Handler>>,
    /// Formatters by name.
    pub formatters: BTreeMap<String, Formatter>,
    /// Answers what no handler serves.
    pub fallback: Option<Box<dyn Handler>>,
}

/// A handler with a fixed answer, implemented in Rust.
struct Fixed {
    prefix: &'static str,
    body: &'static str,
}

impl Handler for Fixed {
    fn prefix(&self) -> String {
        self.prefix.to_owned()
    }
    fn respond(&self, _path: String) -> String {
        self.body.to_owned()
    }
}

/// The handlers Rust provides.
#[export]
pub fn builtin_handlers() -> Vec<Arc<dyn Handler>> {
    vec![
        Arc::new(Fixed {
            prefix: "/status",
            body: "ok",
        }),
        Arc::new(Fixed {
            prefix: "/version",
            body: "1.0",
        }),
    ]
}

/// The formatters Rust provides: `plain` and `upper`.
#[export]
pub fn builtin_formatters() -> BTreeMap<String, Formatter> {
    let mut formatters: BTreeMap<String, Formatter> = BTreeMap::new();
    formatters.insert("plain".to_owned(), Box::new(|text| text));
    formatters.insert("upper".to_owned(), Box::new(|text| text.to_uppercase()));
    formatters
}

/// Routes paths to the installed handlers.
#[derive(Default)]
pub struct Router {
    handlers: Vec<Arc<dyn Handler>>,
    formatters: BTreeMap<String, Formatter>,
    fallback: Option<Box<dyn Handler>>,
}

#[export]
impl Router {
    /// A router with nothing installed.
    pub fn new() -> Router {
        Router::default()
    }

    /// Installs the plugins (a new fallback replaces the old one); how
    /// many handlers it has now.
    pub fn install(&mut self, plugins: Plugins) -> u32 {
        self.handlers.extend(plugins.handlers);
        self.handlers
            .sort_by_key(|h| std::cmp::Reverse(h.prefix().len()));
        self.formatters.extend(plugins.formatters);
        if plugins.fallback.is_some() {
            self.fallback = plugins.fallback;
        }
        self.handlers.len() as u32
    }

    /// The answer of the handler serving `path`, through formatter `format`.
    pub fn get(&self, path: String, format: String) -> Result<String, RouteError> {
        let formatter = self
            .formatters
            .get(&format)
            .ok_or(RouteError::NoFormatter { name: format })?;
        let handler = self
            .handlers
            .iter()
            .map(|h| &**h)
            .find(|h| path.starts_with(&h.prefix()))
            .or(self.fallback.as_deref())
            .ok_or_else(|| RouteError::NotFound { path: path.clone() })?;
        Ok(formatter(handler.respond(path)))
    }

    /// The installed handlers, longest prefix first (Python's come back as
    /// themselves).
    pub fn handlers(&self) -> Vec<Arc<dyn Handler>> {
        self.handlers.clone()
    }
}
