//! ffi-export examples: each module is one small program from the seeds,
//! written as ordinary Rust plus `#[export]`. `examples/python/` calls them.

pub mod arrays;
pub mod basics;
pub mod calls;
pub mod errors;
pub mod objects;
pub mod records;
pub mod strings;
