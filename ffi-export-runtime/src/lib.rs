//! Runtime of [ffi-export](https://example.invalid/ffi-export): the types that
//! cross the C boundary, the conversions the `#[export]` macro calls, the
//! error channel, the self-description, and the Python helper's source.
//!
//! # The C contract
//!
//! Every `#[export] fn name(..) -> R` becomes a C function `name` whose
//! parameters are lowered one by one:
//!
//! | Rust parameter | C parameters |
//! |---|---|
//! | `i8` … `u64`, `isize`, `usize`, `f32`, `f64` | the same C type (`int8_t` … `uint64_t`, `ssize_t`, `size_t`, `float`, `double`) |
//! | `bool` | `uint8_t` (0 or 1; anything else is an invalid argument) |
//! | `&str` | `const uint8_t *ptr, size_t len` (UTF-8 checked) |
//! | `&CStr` | `const char *` (NUL-terminated, not NULL) |
//! | `&[T]` / `&mut [T]` | `const T *ptr, size_t len` / `T *ptr, size_t len` |
//!
//! and its return value:
//!
//! | Rust return | C return |
//! |---|---|
//! | `()` | `void` |
//! | primitive | the same C type (`bool` for `bool`) |
//! | `String` | [`FfiBuffer`]: UTF-8 bytes, NUL-terminated, `len` without the NUL |
//! | `Vec<T>` | [`FfiBuffer`] of `T` |
//! | `Option<primitive>` | [`FfiOption<T>`] (`{ bool is_some; T value; }`) |
//! | `Option<String>`, `Option<Vec<T>>` | [`FfiBuffer`], NULL `ptr` for `None` |
//! | `Result<T, E>` | `T`'s C return |
//!
//! **Ownership.** A function returning an [`FfiBuffer`] has a paired
//! `void name_free(FfiBuffer *)` export. Call it exactly once per returned
//! buffer; it resets the struct to NULL, so a second call on the same struct
//! and a call on NULL (or a NULL buffer) do nothing. Borrowed arguments are
//! only read (or, for `&mut [T]`, written) during the call; nothing keeps
//! them. A `&mut [T]` must not overlap another borrowed argument (refused).
//!
//! **Errors.** A call that returns `Err(e)`, panics, or receives an invalid
//! argument returns the zero value of its C return type (0, `false`, a NULL
//! buffer) and records an [`FfiError`] for the calling thread, replacing any
//! previous one; every call clears the record on entry. After a call,
//! `bool ffi_export_error_take(FfiError *out)` moves the record out (returns
//! `false` and writes code 0 after a successful call), and
//! `ffi_export_error_free(FfiError *)` releases it (again idempotent). The
//! exported counter `uint64_t FFI_EXPORT_FAULTS` grows with every failure in
//! any thread: reading it before and after a call tells, without a call,
//! whether `take` is needed. Panics never unwind into the caller.
//!
//! **Self-description.** `const char *ffi_export_describe(void)` returns a
//! JSON document (owned by the library) listing every export: name, doc
//! comment, parameter names and types, return type, error type, paired free.

#![warn(missing_docs)]

pub mod abi;
pub mod callback;
pub mod convert;
pub mod data;
pub mod describe;
pub mod object;
pub mod python;
pub mod status;

pub use abi::{code, AbiValue, FfiBuffer, FfiError, FfiOption};
pub use callback::{
    AllocElement, Allocator, Callback, CallbackReturn, CallbackValue, FfiAllocator, FfiCallback,
};
pub use convert::{
    check_disjoint, lift_batch_in, lift_batch_out, lift_by_pointer, lift_cstr, lift_slice,
    lift_slice_mut, lift_str, lift_str_list, FfiElement, FfiParam, IntoFfi, Region,
};
pub use data::FfiData;
pub use describe::{
    DataEnumDesc, EnumDesc, ExportDesc, FieldDesc, ParamDesc, RecordDesc, TypeDesc, VariantDesc,
    ABI_VERSION, EXPORTS,
};
pub use object::{live_objects, register, release, with_object, FfiObject, ObjectDesc};
pub use status::{call, Fault, FFI_EXPORT_FAULTS};

/// The source of the Python helper `ffi_export.py` matching this version.
/// `ffi-export python-helper DIR` (the facade's binary) writes it to disk.
pub const PYTHON_HELPER: &str = include_str!("../python/ffi_export.py");

#[doc(hidden)]
pub use linkme;
