//! The `#[repr(C)]` values that cross the boundary: owned buffers, optional
//! scalars and the error record. Their layout is the C contract.

use core::ffi::c_void;
use core::mem::ManuallyDrop;

/// An owned, heap-allocated array handed to the caller: a `String`'s bytes or
/// a `Vec<T>`'s elements.
///
/// `len` and `cap` count elements (bytes for strings). A string buffer is
/// followed by a NUL byte that `len` does not count, so C may read `ptr` as
/// a `char *`. A NULL `ptr` means "no value" (`None`, or an error).
///
/// The caller owns the buffer and gives it back exactly once through the
/// `<function>_free` export paired with the function that returned it. The
/// free takes a pointer to the struct and resets it to NULL, so freeing the
/// same struct twice is harmless.
#[repr(C)]
#[derive(Debug)]
pub struct FfiBuffer {
    /// First element, or NULL for "no value".
    pub ptr: *mut c_void,
    /// Number of elements.
    pub len: usize,
    /// Allocated capacity in elements; only the paired free reads it.
    pub cap: usize,
}

impl FfiBuffer {
    /// The empty, NULL buffer: `None`, or the value returned with an error.
    pub const NULL: FfiBuffer = FfiBuffer {
        ptr: core::ptr::null_mut(),
        len: 0,
        cap: 0,
    };

    /// Hands a vector's allocation to the caller.
    pub fn from_vec<T>(vec: Vec<T>) -> FfiBuffer {
        let mut vec = ManuallyDrop::new(vec);
        FfiBuffer {
            ptr: vec.as_mut_ptr().cast(),
            len: vec.len(),
            cap: vec.capacity(),
        }
    }

    /// Hands a string's allocation to the caller, NUL-terminated for C.
    pub fn from_string(string: String) -> FfiBuffer {
        let mut bytes = string.into_bytes();
        let len = bytes.len();
        // Room for exactly the NUL: `push` alone could double the allocation.
        bytes.reserve_exact(1);
        bytes.push(0);
        let mut buffer = FfiBuffer::from_vec(bytes);
        buffer.len = len;
        buffer
    }

    /// Frees a buffer made by [`FfiBuffer::from_vec::<T>`] (or
    /// `from_string` with `T = u8`) and resets it to NULL. NULL `buffer` and
    /// NULL `buffer.ptr` are no-ops.
    ///
    /// # Safety
    /// `buffer` is NULL or points to a valid `FfiBuffer` that is NULL or was
    /// produced by `from_vec::<T>` / `from_string` (with `T = u8`) of this
    /// library and not modified since.
    pub unsafe fn free<T>(buffer: *mut FfiBuffer) {
        // SAFETY: the caller promises `buffer` is NULL or valid for writes.
        let Some(buffer) = (unsafe { buffer.as_mut() }) else {
            return;
        };
        if buffer.ptr.is_null() {
            return;
        }
        let owned = core::mem::replace(buffer, FfiBuffer::NULL);
        // SAFETY: ptr/len/cap are exactly what `from_vec::<T>` took apart
        // (a string's hidden NUL is a `u8` below `cap`, which needs no drop).
        drop(unsafe { Vec::from_raw_parts(owned.ptr.cast::<T>(), owned.len, owned.cap) });
    }
}

/// The C form of `Option<T>`: `Option<i32>` crosses as `FfiOption<i32>`,
/// `Option<String>` as `FfiOption<FfiBuffer>`. `value` is zero when
/// `is_some` is 0.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FfiOption<T> {
    /// 1 when `value` holds a value, else 0 (a byte: C may store anything,
    /// and anything but 0 or 1 is refused).
    pub is_some: u8,
    /// The value, or zero.
    pub value: T,
}

/// Status codes of [`FfiError::code`].
pub mod code {
    /// No error.
    pub const OK: i32 = 0;
    /// The function returned `Err(e)`; the message is `e`'s `Display`.
    pub const ERROR: i32 = 1;
    /// The function panicked; the message is the panic message.
    pub const PANIC: i32 = 2;
    /// An argument was rejected before the function ran (NULL pointer with a
    /// non-zero length, invalid UTF-8, misaligned or overlapping buffers...).
    pub const INVALID_ARGUMENT: i32 = 3;
    /// A callback or the caller's allocator failed during the call; the
    /// caller's side knows why (the Python helper re-raises its exception).
    pub const CALLBACK_FAILED: i32 = 4;
}

/// The error of the calling thread's most recent failed call, taken with
/// `ffi_export_error_take` and released with `ffi_export_error_free`.
///
/// `message` and `type_name` are owned, NUL-terminated UTF-8 buffers. When
/// the error is an `#[export]` record or enum (`Err(e)`, code 1), `value`
/// owns `e` in its C form (`E_repr`, or the enum's integer) and `variant`
/// is the index of `e`'s variant (enums; -1 for a record); otherwise
/// `value` is NULL and `variant` -1.
#[repr(C)]
#[derive(Debug)]
pub struct FfiError {
    /// One of [`code`]'s constants.
    pub code: i32,
    /// The index of the error value's variant in declaration order (the
    /// `<Type>_<Variant>_tag` constants of the C header), or -1: not an
    /// `#[export]` enum.
    pub variant: i32,
    /// Human-readable message: the error's `Display` or the panic message.
    pub message: FfiBuffer,
    /// The Rust error type's name (e.g. `ParseIntError`), `RustPanic` for a
    /// panic, `InvalidArgument` for a rejected argument.
    pub type_name: FfiBuffer,
    /// The error value in its C form (`E_repr *`, or a pointer to an enum's
    /// integer) when it is an `#[export]` type, owned and released by
    /// `ffi_export_error_free`; else NULL.
    pub value: *mut c_void,
}

impl FfiError {
    /// An `FfiError` holding nothing (code [`code::OK`]).
    pub const OK: FfiError = FfiError {
        code: code::OK,
        variant: -1,
        message: FfiBuffer::NULL,
        type_name: FfiBuffer::NULL,
        value: core::ptr::null_mut(),
    };
}

/// An `#[export]` error value moved into its C form on the heap, owned:
/// what [`FfiError::value`] points to. Dropping it frees the value (deep)
/// exactly once; [`ErrorRepr::into_raw`] hands the value and its free on
/// instead. Made by `data::error_repr`.
pub struct ErrorRepr {
    /// The index of the value's variant (enums), or -1 (records).
    pub variant: i32,
    /// The value's C form (`Box<Repr>` as a raw pointer, never NULL).
    ptr: *mut c_void,
    /// Frees `ptr` and what its C form owns.
    free: unsafe fn(*mut c_void),
}

impl ErrorRepr {
    /// Takes ownership of a C form on the heap.
    ///
    /// # Safety
    /// `ptr` is non-NULL and owned by the caller, and `free(ptr)` releases
    /// it (and what it owns) exactly once.
    pub unsafe fn from_raw(variant: i32, ptr: *mut c_void, free: unsafe fn(*mut c_void)) -> Self {
        ErrorRepr { variant, ptr, free }
    }

    /// The value's C form, valid as long as `self` lives.
    pub fn as_ptr(&self) -> *mut c_void {
        self.ptr
    }

    /// The value and its free: the caller now owns both (calling `free`
    /// once on `ptr` releases it).
    pub fn into_raw(self) -> (*mut c_void, unsafe fn(*mut c_void)) {
        let this = ManuallyDrop::new(self);
        (this.ptr, this.free)
    }
}

impl Drop for ErrorRepr {
    fn drop(&mut self) {
        // SAFETY: `from_raw`'s contract: `free` releases `ptr`, which this
        // value owns (not handed on by `into_raw`), once.
        unsafe { (self.free)(self.ptr) }
    }
}

impl core::fmt::Debug for ErrorRepr {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ErrorRepr")
            .field("variant", &self.variant)
            .field("ptr", &self.ptr)
            .finish()
    }
}

/// Two error values are equal when they are the same allocation (a value
/// is never shared, so only a value equals itself).
impl PartialEq for ErrorRepr {
    fn eq(&self, other: &Self) -> bool {
        self.ptr == other.ptr
    }
}

impl Eq for ErrorRepr {}

/// The value a shim returns when its call failed: zero, `false`, NULL.
///
/// # Safety
/// `error_value` is the empty value of the C form: it owns nothing, and the
/// type's paired free (and the helper) accept it as "nothing to free".
pub unsafe trait AbiValue: Sized {
    /// The placeholder returned with an error.
    fn error_value() -> Self;
}

macro_rules! zero_abi_value {
    ($($t:ident: $class:ident, $kind:literal, $codes:literal;)*) => {$(
        // SAFETY: a number owns nothing.
        unsafe impl AbiValue for $t {
            #[inline]
            fn error_value() -> Self { 0 as $t }
        }
    )*};
}
for_each_primitive!(zero_abi_value);

// SAFETY: owns nothing.
unsafe impl AbiValue for bool {
    #[inline]
    fn error_value() -> Self {
        false
    }
}

// SAFETY: owns nothing.
unsafe impl AbiValue for () {
    #[inline]
    fn error_value() -> Self {}
}

// SAFETY: NULL is the buffer every free accepts as empty.
unsafe impl AbiValue for FfiBuffer {
    #[inline]
    fn error_value() -> Self {
        FfiBuffer::NULL
    }
}

// SAFETY: `None`, with the payload's empty value.
unsafe impl<T: AbiValue> AbiValue for FfiOption<T> {
    #[inline]
    fn error_value() -> Self {
        FfiOption {
            is_some: 0,
            value: T::error_value(),
        }
    }
}

/// The C form of a [`Callback`](crate::Callback): a function pointer and its context.
///
/// `call(context, &failed, args...)` returns the result; on failure it sets
/// `failed` to 1 (its result is then ignored).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct FfiCallback {
    /// `R (*)(void *context, uint8_t *failed, A...)`, NULL is refused.
    pub call: *const c_void,
    /// Passed back as the first argument.
    pub context: *mut c_void,
}

/// The C form of a caller's object Rust may keep: a Python (or C)
/// implementation of an `#[export]` trait, or a stored closure
/// (`Box<dyn Fn(..) -> R + Send + Sync>`). Rust calls `retain(context)`
/// once when it takes the object and `release(context)` once when it drops
/// it, from any thread; the caller keeps what `context` names alive between
/// the two.
///
/// `call(context, method, args, ok, err, message)` runs method number
/// `method` (declaration order; 0 for a closure) with `args` pointing to one
/// pointer per argument, each to the argument's C form (owned by Rust, valid
/// during the call only), and returns 0 after writing the result's C form to
/// `ok`, 1 after writing an error value's C form to `err` (methods returning
/// `Result`), or 2 on failure, with a UTF-8 message in `*message`. What it
/// writes stays the callee's and valid for reading until the same thread's
/// next call on the same object, or the object's release.
///
/// A caller that may run code between a call and reading its results which
/// could call the same object on the same thread (signal handlers,
/// finalizers, trace functions: the Python helper is one) or-s
/// [`FFI_EXPORT_CALL_HELD`] into `method`: that call's results then stay
/// valid, whatever other calls happen meanwhile, until the same thread calls
/// `call(context, FFI_EXPORT_CALL_RELEASE, NULL, NULL, NULL, message)`,
/// which frees those of its latest held call not yet released (0; 2 with a
/// message when there is none). Every held call must be released once.
///
/// The same form crosses the other way (since ABI version 3): a `Box<dyn Trait>`
/// or `Arc<dyn Trait>` Rust returns (alone or inside a `Vec`, `Option`,
/// record, ...) is either the caller's own object handed back (its own
/// functions and context, retained once for the receiver), or a Rust
/// implementation: NULL functions and a `Dyn<Trait>` object handle as the
/// context (freed with `Dyn<Trait>_free`). A Rust closure
/// (`Box<dyn Fn(..)>` returned) comes with Rust's own `call`, `retain` and
/// `release` under the same contract. Either way the receiver owns one
/// reference and releases it once.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct FfiForeign {
    /// `int32_t (*)(void *context, uint32_t method, void *const *args, void *ok, void *err, FfiBuffer *message)`.
    pub call: *const c_void,
    /// `void (*)(void *context)`: Rust took a reference.
    pub retain: *const c_void,
    /// `void (*)(void *context)`: Rust dropped its reference.
    pub release: *const c_void,
    /// Passed back as the first argument.
    pub context: *mut c_void,
}

/// Or-ed into `FfiForeign::call`'s method number: the call's results stay
/// valid until the caller releases them with [`FFI_EXPORT_CALL_RELEASE`]
/// (ABI version 4).
pub const FFI_EXPORT_CALL_HELD: u32 = 0x8000_0000;

/// The method number of `FfiForeign::call` that frees what the calling
/// thread's latest held call not yet released wrote.
pub const FFI_EXPORT_CALL_RELEASE: u32 = 0xFFFF_FFFF;

impl FfiForeign {
    /// All NULL: `None` inside an `Option`, the value returned with an
    /// error.
    pub const NULL: FfiForeign = FfiForeign {
        call: core::ptr::null(),
        retain: core::ptr::null(),
        release: core::ptr::null(),
        context: core::ptr::null_mut(),
    };
}

// SAFETY: all NULL owns nothing (no reference to release).
unsafe impl AbiValue for FfiForeign {
    #[inline]
    fn error_value() -> Self {
        FfiForeign::NULL
    }
}

/// The C form of an [`Allocator`](crate::Allocator): `alloc(context, kind, len)` returns a
/// zeroed, caller-owned buffer of `len` elements (bytes for `kind` 0,
/// text), or NULL after recording its failure.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct FfiAllocator {
    /// `void *(*)(void *context, uint32_t kind, size_t len)`.
    pub alloc: *const c_void,
    /// Passed back as the first argument.
    pub context: *mut c_void,
}

/// The C form of `i128`: two's complement in two halves, low first.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FfiI128 {
    /// Bits 0–63.
    pub lo: u64,
    /// Bits 64–127.
    pub hi: u64,
}

/// The C form of `u128`: two halves, low first.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FfiU128 {
    /// Bits 0–63.
    pub lo: u64,
    /// Bits 64–127.
    pub hi: u64,
}

// SAFETY: zero owns nothing.
unsafe impl AbiValue for FfiI128 {
    fn error_value() -> Self {
        FfiI128 { lo: 0, hi: 0 }
    }
}

// SAFETY: zero owns nothing.
unsafe impl AbiValue for FfiU128 {
    fn error_value() -> Self {
        FfiU128 { lo: 0, hi: 0 }
    }
}

/// The C forms of tuples: their elements' C forms, `_0`, `_1`, ...
macro_rules! tuple_structs {
    ($($name:ident { $($t:ident $field:ident),+ })*) => {$(
        /// The C form of a tuple: its elements' C forms, `_0`, `_1`, ...
        #[repr(C)]
        #[derive(Debug, Clone, Copy, PartialEq)]
        pub struct $name<$($t),+> {
            $(
                #[allow(missing_docs)]
                pub $field: $t,
            )+
        }

        // SAFETY: every element's empty value, which owns nothing.
        unsafe impl<$($t: AbiValue),+> AbiValue for $name<$($t),+> {
            fn error_value() -> Self {
                $name { $($field: $t::error_value()),+ }
            }
        }
    )*};
}

tuple_structs! {
    FfiTuple1 { A _0 }
    FfiTuple2 { A _0, B _1 }
    FfiTuple3 { A _0, B _1, C _2 }
    FfiTuple4 { A _0, B _1, C _2, D _3 }
    FfiTuple5 { A _0, B _1, C _2, D _3, E _4 }
    FfiTuple6 { A _0, B _1, C _2, D _3, E _4, F _5 }
}

/// CPython's object header (`PyObject`; only the header is read). Part of
/// the fast path's C contract, defined here with the other C forms.
#[repr(C)]
pub struct PyObject {
    ob_refcnt: isize,
    ob_type: *mut PyObject,
}

impl PyObject {
    /// The type of `obj`.
    ///
    /// # Safety
    /// `obj` is a live object with CPython's regular header.
    pub unsafe fn type_of(obj: *mut PyObject) -> *mut PyObject {
        // SAFETY: a live object starts with its header (refcount, type).
        unsafe { (*obj).ob_type }
    }
}

/// A generated fast function: `(slow wrapper, args, nargs) -> result`.
pub type FastFn = unsafe extern "C" fn(*mut PyObject, *const *mut PyObject, isize) -> *mut PyObject;

/// One field of a runtime ABI struct, as C sees it.
#[derive(Debug)]
pub struct AbiFieldDesc {
    /// The field name (the same in Rust, C and the helper's mirror).
    pub name: &'static str,
    /// Its C type: `void *`, `size_t`, `int32_t`, `uint8_t`, another ABI
    /// struct's name, or `T` (the parameter of a generic struct).
    pub c_type: &'static str,
    /// Its byte offset in the Rust struct (`T` instantiated as `u64`).
    pub offset: usize,
}

/// A runtime ABI struct (`FfiBuffer`, `FfiError`, ...): its one
/// description, from which the C header's definitions and the Python
/// helper's ctypes mirrors are made, checked against the Rust layout.
#[derive(Debug)]
pub struct AbiStructDesc {
    /// The C (and Rust) name.
    pub name: &'static str,
    /// What it is, one line.
    pub doc: &'static str,
    /// `T` for a generic struct (`FfiOption<T>`), else empty.
    pub generic: &'static str,
    /// Fields in order.
    pub fields: &'static [AbiFieldDesc],
    /// Rust size (`T` as `u64`).
    pub size: usize,
    /// Rust alignment (`T` as `u64`).
    pub align: usize,
}

/// Describes a `#[repr(C)]` struct of the runtime; every field named must
/// exist (`offset_of!`), and `abi_types_match_their_c_layout` checks that
/// the listed fields make up the whole struct.
macro_rules! abi_struct {
    ($ty:ty, $name:literal, $generic:literal, $doc:literal, { $($field:ident: $c:literal),* $(,)? }) => {
        AbiStructDesc {
            name: $name,
            doc: $doc,
            generic: $generic,
            fields: &[$(AbiFieldDesc {
                name: stringify!($field),
                c_type: $c,
                offset: core::mem::offset_of!($ty, $field),
            }),*],
            size: core::mem::size_of::<$ty>(),
            align: core::mem::align_of::<$ty>(),
        }
    };
}

/// The runtime's ABI structs, in dependency order.
pub static ABI_TYPES: &[AbiStructDesc] = &[
    abi_struct!(FfiBuffer, "FfiBuffer", "", "An owned array (a String's bytes, a Vec's elements); NULL ptr: no value.", {
        ptr: "void *",
        len: "size_t",
        cap: "size_t",
    }),
    abi_struct!(FfiOption<u64>, "FfiOption", "T", "Option<T>: is_some is 0 or 1, value is zero when 0.", {
        is_some: "uint8_t",
        value: "T",
    }),
    abi_struct!(FfiError, "FfiError", "", "A failed call's error: code 1 Err, 2 panic, 3 invalid argument, 4 callback failed; an #[export] error's variant index and owned C form.", {
        code: "int32_t",
        variant: "int32_t",
        message: "FfiBuffer",
        type_name: "FfiBuffer",
        value: "void *",
    }),
    abi_struct!(FfiCallback, "FfiCallback", "", "A caller's function: R (*call)(void *context, uint8_t *failed, A...).", {
        call: "void *",
        context: "void *",
    }),
    abi_struct!(FfiAllocator, "FfiAllocator", "", "The caller's allocator: void *(*alloc)(void *context, uint32_t kind, size_t len).", {
        alloc: "void *",
        context: "void *",
    }),
    abi_struct!(FfiForeign, "FfiForeign", "", "A caller's object Rust may keep: int32_t (*call)(void *context, uint32_t method, void *const *args, void *ok, void *err, FfiBuffer *message) returns 0 ok, 1 error value, 2 failed; retain/release(context) bracket Rust's reference.", {
        call: "void *",
        retain: "void *",
        release: "void *",
        context: "void *",
    }),
    abi_struct!(FfiI128, "FfiI128", "", "An i128: two's complement, low 64 bits first.", {
        lo: "uint64_t",
        hi: "uint64_t",
    }),
    abi_struct!(FfiU128, "FfiU128", "", "A u128, low 64 bits first.", {
        lo: "uint64_t",
        hi: "uint64_t",
    }),
];

#[cfg(test)]
mod tests {
    /// C's natural layout of `fields` (sizes of the C types used by the
    /// ABI structs, `T` as `u64`): offsets and total size.
    fn c_layout(desc: &AbiStructDesc) -> (Vec<usize>, usize) {
        fn size_align(c: &str) -> (usize, usize) {
            match c {
                "void *" | "size_t" | "uint64_t" | "T" => (8, 8),
                "int32_t" => (4, 4),
                "uint8_t" => (1, 1),
                other => {
                    let inner = ABI_TYPES.iter().find(|d| d.name == other).expect("known");
                    (inner.size, inner.align)
                }
            }
        }
        let (mut offset, mut align, mut offsets) = (0usize, 1usize, Vec::new());
        for field in desc.fields {
            let (size, field_align) = size_align(field.c_type);
            offset = offset.div_ceil(field_align) * field_align;
            offsets.push(offset);
            offset += size;
            align = align.max(field_align);
        }
        (offsets, offset.div_ceil(align) * align)
    }

    #[test]
    #[cfg(target_pointer_width = "64")]
    fn abi_types_match_their_c_layout() {
        for desc in ABI_TYPES {
            let (offsets, size) = c_layout(desc);
            let rust: Vec<usize> = desc.fields.iter().map(|f| f.offset).collect();
            assert_eq!(rust, offsets, "{}: field offsets", desc.name);
            assert_eq!(
                desc.size, size,
                "{}: a field is missing from its description",
                desc.name
            );
        }
    }

    use super::*;

    #[test]
    fn string_buffer_is_nul_terminated_and_freed_once() {
        let mut buffer = FfiBuffer::from_string("héllo".to_owned());
        assert_eq!(buffer.len, 6);
        // SAFETY: from_string wrote len bytes plus a NUL.
        let bytes = unsafe { core::slice::from_raw_parts(buffer.ptr.cast::<u8>(), 7) };
        assert_eq!(bytes, b"h\xc3\xa9llo\0");
        // SAFETY: the buffer came from from_string.
        unsafe { FfiBuffer::free::<u8>(&mut buffer) };
        assert!(buffer.ptr.is_null());
        // SAFETY: a NULL buffer and a NULL pointer are both no-ops.
        unsafe {
            FfiBuffer::free::<u8>(&mut buffer);
            FfiBuffer::free::<u8>(core::ptr::null_mut());
        }
    }

    #[test]
    fn vec_buffer_round_trips() {
        let mut buffer = FfiBuffer::from_vec(vec![1.5f64, 2.5]);
        assert_eq!((buffer.len, buffer.cap >= 2), (2, true));
        // SAFETY: from_vec::<f64> made it.
        let values = unsafe { core::slice::from_raw_parts(buffer.ptr.cast::<f64>(), 2) };
        assert_eq!(values, [1.5, 2.5]);
        // SAFETY: from_vec::<f64> made it.
        unsafe { FfiBuffer::free::<f64>(&mut buffer) };
        assert!(buffer.ptr.is_null());
    }
}
