//! ffi-export examples: the programs of the hand-written Go/C + ctypes
//! tutorials this project replaces, written as ordinary Rust plus
//! `#[export]`, one module per topic. `examples/python/` calls them, and
//! `examples/README.md` maps each seed program to its port.

pub mod arrays;
pub mod basics;
pub mod calls;
pub mod config;
pub mod errors;
pub mod events;
pub mod fetch;
pub mod json;
pub mod objects;
pub mod pipeline;
pub mod playlist;
pub mod plugins;
pub mod protocols;
pub mod records;
pub mod scene;
pub mod stock;
pub mod strings;
