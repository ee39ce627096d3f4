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
//! | `&[&str]` | `const FfiBuffer *items, size_t len` (each item `{ptr, len}` UTF-8) |
//! | `&[T]` / `&mut [T]` | `const T *ptr, size_t len` / `T *ptr, size_t len` |
//! | `Option<T>` | `const T_repr *`, NULL for `None` |
//! | `#[export]` struct `R` (by value or `&R`) | `const R_repr *` (copied in, not NULL) |
//! | `#[export]` enum with data `E` (by value or `&E`) | `const E_repr *` |
//! | `#[export]` field-less enum | its `#[repr]` integer (`int32_t` by default), checked |
//! | [`Callback<fn(A, ..) -> R>`](Callback) | [`FfiCallback`] by value |
//! | [`Allocator`] | [`FfiAllocator`] by value |
//!
//! Methods of an `#[export] impl T` block take the object's `uint64_t`
//! handle first and are exported as `T_<method>`.
//!
//! and its return value:
//!
//! | Rust return | C return |
//! |---|---|
//! | `()` | `void` |
//! | primitive | the same C type (`uint8_t`, 0 or 1, for `bool`) |
//! | `String` | [`FfiBuffer`]: UTF-8 bytes, NUL-terminated, `len` without the NUL |
//! | `Vec<T>` | [`FfiBuffer`] of `T`'s C form |
//! | `Option<T>` | [`FfiOption<T_repr>`](FfiOption) (`{ uint8_t is_some; T_repr value; }`) |
//! | `#[export]` struct `R` | `R_repr`, a `#[repr(C)]` struct of its fields' C forms in order (a `#[repr(C)]` struct of numbers is itself) |
//! | `#[export]` enum with data `E` | `E_repr`: `{ uint32_t tag; union { V_repr V; ... } data; }` |
//! | `Self` of an `#[export] impl` | a `uint64_t` handle, released with `T_free(handle)` |
//! | `Result<T, E>` (`E: Display + 'static`) | `T`'s C return; the error goes to the error channel |
//!
//! An `async fn name(..) -> R` becomes a task: `uint64_t name(.., on_done,
//! context)` starts it, `R name_finish(uint64_t task)` returns its result
//! once `on_done(context)` was called, `ffi_export_task_cancel(task)`
//! drops it (see [`task`]).
//!
//! `#[export(batch)]` on a function of primitives also exports
//! `size_t name_batch(size_t len, const A *a, size_t a_step, ..., R *out)`.
//! `python ffi_export.py header LIBRARY` writes all of this as a C header
//! for a built library.
//!
//! **Ownership.** A function whose result owns memory (a [`FfiBuffer`], or a
//! record, option or enum holding one) has a paired
//! `void name_free(T *)` export. Call it exactly once per returned value;
//! it resets the value to empty, so a second call on the same value and a
//! call on NULL do nothing. Borrowed arguments are only read (or, for
//! `&mut [T]`, written) during the call; nothing keeps them. A `&mut [T]`
//! must not overlap another borrowed argument (refused).
//!
//! ```
//! use ffi_export_runtime::FfiBuffer;
//!
//! // What a `String`-returning export hands to C...
//! let mut buffer = FfiBuffer::from_string("héllo".to_owned());
//! assert_eq!(buffer.len, 6); // bytes, without the trailing NUL
//! // ...and what its paired `_free` does with it, once.
//! // SAFETY: made by `from_string` (a `Vec<u8>`), not modified since.
//! unsafe { FfiBuffer::free::<u8>(&mut buffer) };
//! assert!(buffer.ptr.is_null());
//! // SAFETY: a NULL buffer: freeing it again is a no-op.
//! unsafe { FfiBuffer::free::<u8>(&mut buffer) };
//! ```
//!
//! **Errors.** A call that returns `Err(e)`, panics, or receives an invalid
//! argument returns the zero value of its C return type (0, `false`, a NULL
//! buffer) and records an [`FfiError`] for the calling thread. After a call,
//! `bool ffi_export_error_take(FfiError *out)` moves that call's error out
//! (returns `false` and writes code 0 after a successful call; each call
//! starts a new "latest"), and `ffi_export_error_free(FfiError *)` releases
//! it (again idempotent). The exported counter `uint64_t FFI_EXPORT_FAULTS`
//! grows with every failure in any thread: reading it before and after a
//! call tells, without a call, whether a take is needed, and
//! `ffi_export_error_take_since(before, out)` takes that call's error even
//! if other calls ran on the thread meanwhile (see [`status`]). Panics never
//! unwind into the caller.
//!
//! [`FfiError`] holds the code, the message (the error's `Display`; for
//! `Box<dyn Error>` and `anyhow::Error`, with their chain of causes:
//! `outer: inner: root`) and the error type's short name. When the error
//! type is an `#[export]` record or enum, it also holds the error value:
//! `value` points to its C form (`E_repr`, or the enum's integer), owned by
//! the `FfiError` until `ffi_export_error_free`, and `variant` is the index
//! of its variant (-1 for a record; `value` NULL and `variant` -1 for every
//! other error). The runtime finds such a type in [`TYPES`] by the `TypeId`
//! of `E`, which is why `E: 'static`. A value is freed exactly once: by
//! `ffi_export_error_free` (which ignores a `value` it did not hand out, so
//! freeing a copy of the struct or a forged pointer does nothing), or with
//! the thread's record when nobody takes it (pushed out by 16 newer
//! failures, or at thread exit). This layout is [`ABI_VERSION`] 3.
//!
//! Every shim runs its body through [`call`]; this is the channel seen from
//! Rust:
//!
//! ```
//! use ffi_export_runtime::{call, code, status, FfiError, Fault};
//!
//! // A failing body returns the zero value and records the error...
//! let value: i32 = call(|| Err(Fault::error("not a number")));
//! assert_eq!(value, 0);
//! let mut error = FfiError::OK;
//! // SAFETY: `error` is a valid, writable FfiError.
//! assert!(unsafe { status::ffi_export_error_take(&mut error) });
//! assert_eq!(error.code, code::ERROR);
//! // SAFETY: the message is error.message.len bytes of UTF-8.
//! let message = unsafe {
//!     std::slice::from_raw_parts(error.message.ptr.cast::<u8>(), error.message.len)
//! };
//! assert_eq!(message, b"not a number");
//! // SAFETY: written by ffi_export_error_take; freeing is idempotent.
//! unsafe { status::ffi_export_error_free(&mut error) };
//!
//! // ...a panic is caught and becomes code 2...
//! let value: u64 = call(|| panic!("boom"));
//! assert_eq!(value, 0);
//! // SAFETY: as above.
//! assert!(unsafe { status::ffi_export_error_take(&mut error) });
//! assert_eq!(error.code, code::PANIC);
//! // SAFETY: as above.
//! unsafe { status::ffi_export_error_free(&mut error) };
//!
//! // ...and a successful call leaves nothing to take.
//! assert_eq!(call(|| Ok(7_u8)), 7);
//! // SAFETY: as above.
//! assert!(!unsafe { status::ffi_export_error_take(&mut error) });
//! ```
//!
//! **Self-description.** `const char *ffi_export_describe(void)` returns a
//! JSON document (owned by the library) listing every export: C and Rust
//! names, module, doc comment, parameter names and types (and which are
//! borrowed), return type, error type, paired free, and every record, enum
//! and object type of the library.
//! `uint32_t ffi_export_abi_version(void)` returns [`ABI_VERSION`]; the
//! Python helper refuses a library whose version differs from its own.
//!
//! ```
//! use ffi_export_runtime::describe::{describe_json, ExportDesc, ParamDesc, TypeDesc};
//!
//! static PARAMS: [ParamDesc; 1] = [ParamDesc { name: "text", ty: TypeDesc::Str, default: None, borrowed: false, mutable: false }];
//! let export = ExportDesc {
//!     name: "shout",
//!     rust_name: "shout",
//!     module: "mylib",
//!     doc: "Upper-cases `text`.",
//!     params: &PARAMS,
//!     ret: TypeDesc::String,
//!     free: Some("shout_free"),
//!     owner: None,
//!     kind: "function",
//!     python: None,
//!     python_ready: ffi_export_runtime::describe::always_ready,
//!     batch: None,
//!     finish: None,
//!     property: None,
//!     keep_gil: false,
//! };
//! let json = describe_json(std::slice::from_ref(&export));
//! assert!(json.starts_with(r#"{"abi_version":4,"#));
//! assert!(json.contains(r#""params":[{"name":"text","type":{"kind":"str"}}],"returns":{"kind":"string"},"free":"shout_free""#));
//! ```

#![warn(missing_docs)]

#[macro_use]
mod primitives;
pub mod abi;
pub mod callback;
pub mod collections;
pub mod convert;
pub mod data;
pub mod describe;
pub mod dynamic;
pub mod fn_ref;
pub mod foreign;
pub mod iter;
pub mod object;
pub mod plain;
pub mod protocol;
pub mod python;
pub mod status;
pub mod task;

pub use abi::{
    code, AbiValue, ErrorRepr, FfiAllocator, FfiBuffer, FfiCallback, FfiError, FfiForeign, FfiI128,
    FfiOption, FfiTuple1, FfiTuple2, FfiTuple3, FfiTuple4, FfiTuple5, FfiTuple6, FfiU128,
};
pub use callback::{AllocElement, Allocator, Callback, CallbackReturn, CallbackValue};
pub use convert::{
    check_disjoint, check_items_disjoint, lift_batch_in, lift_batch_out, lift_copied, lift_cstr,
    lift_slice, lift_slice_mut, lift_str, lift_str_list, BatchOut, CallScope, FfiArcParam,
    FfiElement, FfiParam, FfiSliceElem, IntoFfi, Region, SliceArg,
};
pub use data::{
    encode_error, error_repr, lift_by_pointer, reserve_by_pointer, FfiArcData, FfiArcRepr, FfiData,
    FfiLift, Moves, MovesOnce,
};
pub use describe::{
    DataEnumDesc, EnumDesc, ErrorEncoder, ExportDesc, FieldDesc, IterDesc, MethodDesc, ObjectDesc,
    ParamDesc, PropertyDesc, RecordDesc, TraitDesc, TypeDesc, TypeEntry, VariantDesc, ABI_VERSION,
    EXPORTS, TYPES,
};
pub use dynamic::{FfiTrait, ForeignArgs, ForeignObject, ForeignReturn, ForeignValue};
pub use fn_ref::{ArgRepr, CallArg, FnRef};
pub use iter::{Items, IterItems, Results, RustIter};
pub use object::{
    borrow_copied, hold_object, live_objects, register, register_shared, release, reserve_object,
    shared, take_object, with_object, FfiBorrow, FfiBorrowMut, FfiObject, Locked, ObjectArgs,
};
pub use plain::FfiPlain;
pub use primitives::NUMBERS;
pub use status::{call, BatchElement, ErrorValue, Fault, FFI_EXPORT_FAULTS};

/// The source of the Python helper `ffi_export.py` matching this version.
/// `ffi-export python-helper DIR` (the facade's binary) writes it to disk.
pub const PYTHON_HELPER: &str = include_str!("../python/ffi_export.py");

/// The source of `ffi_export_tools.py`, the helper's companion (typed stubs,
/// a C header, `describe`; not needed at run time), written next to it.
pub const PYTHON_TOOLS: &str = include_str!("../python/ffi_export_tools.py");

#[doc(hidden)]
pub use linkme;
