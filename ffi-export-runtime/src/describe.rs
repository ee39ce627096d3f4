//! The self-description: every `#[export]` adds one [`ExportDesc`] to the
//! [`EXPORTS`] distributed slice (a linker section, so exports spread over
//! modules need no registry and no build script), and the library serves the
//! collected entries as JSON through the `ffi_export_describe` symbol.
//!
//! Type descriptions come from the conversion traits' `DESC` constants, so a
//! type's description is defined once, next to its conversion.

use core::ffi::c_char;
use std::ffi::CString;
use std::fmt::{self, Write as _};
use std::sync::OnceLock;

/// Version of the C ABI and of the description format. The Python helper
/// refuses a library whose version differs from its own.
pub const ABI_VERSION: u32 = 4;

/// How one Rust type crosses the boundary.
#[derive(Debug, Clone, Copy)]
pub enum TypeDesc {
    /// `()`: no value.
    Unit,
    /// A primitive by value: `i8` … `u64`, `isize`, `usize`, `f32`, `f64`, `bool`.
    Scalar(&'static str),
    /// `&str`: `(const uint8_t *ptr, size_t len)`, UTF-8 checked.
    Str,
    /// `&CStr`: `const char *`, NUL-terminated.
    CStr,
    /// `&[&str]`: `(const FfiBuffer *items, size_t len)`, each item UTF-8.
    StrList,
    /// `&[T]` / `&mut [T]`: `(T *ptr, size_t len)`.
    Slice {
        /// The element type.
        elem: &'static TypeDesc,
        /// `&mut [T]`.
        mutable: bool,
    },
    /// `String` as an [`FfiBuffer`](crate::FfiBuffer) of UTF-8.
    String,
    /// `Vec<T>` as an [`FfiBuffer`](crate::FfiBuffer) of `T`'s C form.
    Vec(&'static TypeDesc),
    /// `Option<T>` as [`FfiOption`](crate::FfiOption) (a pointer, NULL for
    /// `None`, when it is a parameter).
    Option(&'static TypeDesc),
    /// `Result<T, E>`: `T`, or an error named after `E`.
    Result {
        /// The `Ok` type.
        ok: &'static TypeDesc,
        /// The error type's short name.
        error: fn() -> &'static str,
        /// `E`'s description when it is an `#[export]` record or enum (its
        /// errors carry their value), else `None`.
        error_type: fn() -> Option<&'static TypeDesc>,
    },
    /// An `#[export]` struct (a function, so recursive types describe).
    Record(fn() -> &'static RecordDesc),
    /// An `#[export]` field-less enum.
    Enum(fn() -> &'static EnumDesc),
    /// An `#[export] impl` type, crossing as a `u64` handle.
    Object(fn() -> &'static ObjectDesc),
    /// `Arc<T>` of an `#[export] impl` type (`T`'s `Object` description):
    /// a shared object, crossing as its `u64` handle.
    Shared(&'static TypeDesc),
    /// An `#[export]` enum with data: a tagged union.
    DataEnum(fn() -> &'static DataEnumDesc),
    /// A [`Callback`](crate::Callback): `FfiCallback` by value.
    Callback {
        /// Argument types.
        params: &'static [TypeDesc],
        /// Result type.
        ret: &'static TypeDesc,
    },
    /// An [`Allocator`](crate::Allocator): `FfiAllocator` by value.
    Allocator,
    /// `HashMap<K, V>` / `BTreeMap<K, V>`: an `FfiBuffer` of key/value
    /// pairs (`FfiTuple2`).
    Map {
        /// The key type.
        key: &'static TypeDesc,
        /// The value type.
        value: &'static TypeDesc,
        /// A `BTreeMap` (keys in order).
        sorted: bool,
    },
    /// `HashSet<T>` / `BTreeSet<T>`: an `FfiBuffer` of elements.
    Set {
        /// The element type.
        elem: &'static TypeDesc,
        /// A `BTreeSet` (elements in order).
        sorted: bool,
    },
    /// `(A, B, ..)`: `FfiTupleN { _0, _1, .. }`.
    Tuple(&'static [TypeDesc]),
    /// `Box<dyn T>` / `Arc<dyn T>` of an `#[export]` trait: an
    /// [`FfiForeign`](crate::abi::FfiForeign) the caller implements.
    Trait(fn() -> &'static TraitDesc),
    /// `Box<dyn Fn(A..) -> R + Send + Sync>` (or `Arc<..>`): a closure Rust
    /// may keep, an [`FfiForeign`](crate::abi::FfiForeign) of one method.
    Closure {
        /// Argument types.
        params: &'static [TypeDesc],
        /// Result type (a `Result` for fallible closures).
        ret: &'static TypeDesc,
    },
    /// `&dyn Fn(A..) -> R`: a function of the caller's borrowed for the
    /// call, an [`FfiForeign`](crate::abi::FfiForeign) of one method whose
    /// failure re-raises as itself (`CALLBACK_FAILED`).
    FnRef {
        /// Argument types (a `&str` as `String`).
        params: &'static [TypeDesc],
        /// Result type (a `Result` for fallible callbacks).
        ret: &'static TypeDesc,
    },
    /// An iterator returned by an export (`impl Iterator<Item = T>`,
    /// `Box<dyn Iterator<Item = T> + Send>`): a `u64` handle of a
    /// [`RustIter`](crate::iter::RustIter), read through the exports its
    /// description names.
    Iterator(&'static IterDesc),
}

impl TypeDesc {
    /// `self` (the description of a `Result<T, E>`) with `ok` as its `Ok`
    /// type: how `#[export]` describes `Result<impl Iterator<..>, E>`,
    /// whose `Ok` crosses as an iterator's handle. Anything else is
    /// returned unchanged.
    #[doc(hidden)]
    pub const fn with_ok(self, ok: &'static TypeDesc) -> TypeDesc {
        match self {
            TypeDesc::Result {
                error, error_type, ..
            } => TypeDesc::Result {
                ok,
                error,
                error_type,
            },
            other => other,
        }
    }
}

/// An iterator result: its items, and the exports that read and drop it.
#[derive(Debug)]
pub struct IterDesc {
    /// What `next` returns: `Vec<T>`, or `Result<Vec<T>, E>` for `Result`
    /// items (a function: the item type's bound is checked in one place,
    /// see [`IterItems`](crate::iter::IterItems)).
    pub chunk: fn() -> TypeDesc,
    /// `<name>_iter_next(uint64_t iter, size_t max)`: the next items.
    pub next: &'static str,
    /// `<name>_iter_next_free`: frees a chunk.
    pub next_free: &'static str,
    /// `<name>_iter_free(uint64_t iter)`: drops the iterator.
    pub free: &'static str,
}

impl IterDesc {
    /// The item type (the `Ok` type of `Result` items): the element of
    /// the chunk.
    pub fn item(&self) -> TypeDesc {
        let chunk = match (self.chunk)() {
            TypeDesc::Result { ok, .. } => *ok,
            chunk => chunk,
        };
        match chunk {
            TypeDesc::Vec(item) => *item,
            other => other,
        }
    }
}

/// Whether a value described by `desc`, passed in by value, moves objects
/// of an `#[export] impl` into Rust: an object, or a `Vec`, `Option`, map,
/// tuple, record or enum holding one (a set's elements are not moved).
/// Each record and enum is looked into once, so recursive types end.
pub fn moves_objects(desc: &TypeDesc) -> bool {
    fn fields(fields: &[FieldDesc], seen: &mut Vec<usize>) -> bool {
        fields.iter().any(|field| walk(&field.ty, seen))
    }
    fn first_time<T>(desc: &T, seen: &mut Vec<usize>) -> bool {
        let address = desc as *const T as usize;
        let first = !seen.contains(&address);
        seen.push(address);
        first
    }
    fn walk(desc: &TypeDesc, seen: &mut Vec<usize>) -> bool {
        match desc {
            TypeDesc::Object(_) => true,
            TypeDesc::Vec(inner) | TypeDesc::Option(inner) => walk(inner, seen),
            TypeDesc::Map { key, value, .. } => walk(key, seen) || walk(value, seen),
            TypeDesc::Tuple(items) => items.iter().any(|item| walk(item, seen)),
            TypeDesc::Record(record) => {
                let record = record();
                first_time(record, seen) && fields(record.fields, seen)
            }
            TypeDesc::DataEnum(data) => {
                let data = data();
                first_time(data, seen) && data.variants.iter().any(|v| fields(v.fields, seen))
            }
            _ => false,
        }
    }
    walk(desc, &mut Vec::new())
}

/// An `#[export]` trait's description.
#[derive(Debug)]
pub struct TraitDesc {
    /// The Rust name.
    pub name: &'static str,
    /// `module_path!()` of the trait.
    pub module: &'static str,
    /// Its doc comment.
    pub doc: &'static str,
    /// Its methods, in declaration order (a method's index is its number in
    /// `FfiForeign::call`).
    pub methods: &'static [MethodDesc],
    /// `Dyn<Trait>`, the object a Rust implementation crosses as
    /// (`TypeDesc::Object`).
    pub object: TypeDesc,
}

/// One method of an `#[export]` trait (`&self` is not a parameter).
#[derive(Debug)]
pub struct MethodDesc {
    /// The Rust name.
    pub name: &'static str,
    /// Its doc comment.
    pub doc: &'static str,
    /// Parameters in order.
    pub params: &'static [ParamDesc],
    /// The return type.
    pub ret: TypeDesc,
}

impl fmt::Display for TypeDesc {
    /// The Rust spelling, for messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TypeDesc::Unit => f.write_str("()"),
            TypeDesc::Scalar(name) => f.write_str(name),
            TypeDesc::Str => f.write_str("&str"),
            TypeDesc::CStr => f.write_str("&CStr"),
            TypeDesc::StrList => f.write_str("&[&str]"),
            TypeDesc::Slice { elem, mutable } => {
                write!(f, "&{}[{elem}]", if *mutable { "mut " } else { "" })
            }
            TypeDesc::String => f.write_str("String"),
            TypeDesc::Vec(elem) => write!(f, "Vec<{elem}>"),
            TypeDesc::Option(inner) => write!(f, "Option<{inner}>"),
            TypeDesc::Result { ok, error, .. } => write!(f, "Result<{ok}, {}>", error()),
            TypeDesc::Record(desc) => f.write_str(desc().name),
            TypeDesc::Enum(desc) => f.write_str(desc().name),
            TypeDesc::Object(desc) => f.write_str(desc().name),
            TypeDesc::Shared(object) => write!(f, "Arc<{object}>"),
            TypeDesc::DataEnum(desc) => f.write_str(desc().name),
            TypeDesc::Callback { params, ret } => {
                f.write_str("Callback<fn(")?;
                for (i, param) in params.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{param}")?;
                }
                write!(f, ") -> {ret}>")
            }
            TypeDesc::Allocator => f.write_str("Allocator"),
            TypeDesc::Trait(desc) => write!(f, "dyn {}", desc().name),
            TypeDesc::Closure { params, ret } | TypeDesc::FnRef { params, ret } => {
                f.write_str(match self {
                    TypeDesc::FnRef { .. } => "&dyn Fn(",
                    _ => "dyn Fn(",
                })?;
                for (i, param) in params.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{param}")?;
                }
                write!(f, ") -> {ret}")
            }
            TypeDesc::Map { key, value, sorted } => {
                let map = if *sorted { "BTreeMap" } else { "HashMap" };
                write!(f, "{map}<{key}, {value}>")
            }
            TypeDesc::Set { elem, sorted } => {
                let set = if *sorted { "BTreeSet" } else { "HashSet" };
                write!(f, "{set}<{elem}>")
            }
            TypeDesc::Iterator(iter) => write!(f, "impl Iterator<Item = {}>", iter.item()),
            TypeDesc::Tuple(elems) => {
                f.write_str("(")?;
                for (i, elem) in elems.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{elem}")?;
                }
                f.write_str(if elems.len() == 1 { ",)" } else { ")" })
            }
        }
    }
}

/// An `#[export] impl` type's description.
#[derive(Debug)]
pub struct ObjectDesc {
    /// The Rust name.
    pub name: &'static str,
    /// `module_path!()` of the impl block.
    pub module: &'static str,
    /// The doc comment of the impl block.
    pub doc: &'static str,
    /// The destructor export, `<Name>_free`.
    pub free: &'static str,
    /// Frees a handle quietly (a finalizer's `<Name>_free`: failures and
    /// panics dropped), for the CPython fast path's native `__del__`.
    pub release: fn(u64),
}

/// An `#[export]` struct.
#[derive(Debug)]
pub struct RecordDesc {
    /// The Rust name.
    pub name: &'static str,
    /// `module_path!()` of the struct.
    pub module: &'static str,
    /// Its doc comment.
    pub doc: &'static str,
    /// Fields in declaration (and C layout) order.
    pub fields: &'static [FieldDesc],
    /// `#[repr(C)]` plain data: crosses as itself, with no conversion.
    pub pod: bool,
    /// The Rust size of the struct (for plain data: of its C form, which
    /// the helper checks its mirror against).
    pub size: usize,
    /// The Rust alignment of the struct.
    pub align: usize,
}

/// One field of a record.
#[derive(Debug)]
pub struct FieldDesc {
    /// The Rust field name.
    pub name: &'static str,
    /// Its type.
    pub ty: TypeDesc,
    /// Its default value for Python (`#[ffi(default = ..)]`), as JSON.
    pub default: Option<&'static str>,
}

/// An `#[export]` enum with data.
#[derive(Debug)]
pub struct DataEnumDesc {
    /// The Rust name.
    pub name: &'static str,
    /// `module_path!()` of the enum.
    pub module: &'static str,
    /// Its doc comment.
    pub doc: &'static str,
    /// Variants in declaration order; a variant's index is its tag.
    pub variants: &'static [VariantDesc],
}

/// One variant of an enum with data.
#[derive(Debug)]
pub struct VariantDesc {
    /// The variant name.
    pub name: &'static str,
    /// A tuple variant (fields named `_0`, `_1`, ...).
    pub tuple: bool,
    /// Its fields (none for a unit variant).
    pub fields: &'static [FieldDesc],
}

/// An `#[export]` field-less enum.
#[derive(Debug)]
pub struct EnumDesc {
    /// The Rust name.
    pub name: &'static str,
    /// `module_path!()` of the enum.
    pub module: &'static str,
    /// Its doc comment.
    pub doc: &'static str,
    /// The C integer type that carries the discriminant.
    pub repr: &'static str,
    /// Variants and their discriminants.
    pub variants: &'static [(&'static str, i64)],
}

/// One parameter of an export.
#[derive(Debug)]
pub struct ParamDesc {
    /// The Rust parameter name.
    pub name: &'static str,
    /// How it crosses.
    pub ty: TypeDesc,
    /// Its default value for Python (`#[ffi(default = ..)]`), as JSON: the
    /// macro writes it from a literal it checked against the type.
    pub default: Option<&'static str>,
    /// Written `&T` of a type described by `ty` (a record or an enum with
    /// data, passed by pointer and copied in): the Rust signature borrows it
    /// (`"borrowed": true` in the JSON, absent when false).
    pub borrowed: bool,
    /// Written `&mut T` (an object borrowed exclusively; `"mutable": true`
    /// in the JSON, absent when false).
    pub mutable: bool,
}

/// `ExportDesc::python_ready` of an export whose fast function needs
/// nothing registered (or that has none).
pub fn always_ready() -> bool {
    true
}

/// One exported function.
#[derive(Debug)]
pub struct ExportDesc {
    /// The exported C symbol.
    pub name: &'static str,
    /// The Rust function's name (`area` for `#[export(name = "sprites_area")]
    /// fn area`, `get` for the method `Counter_get`).
    pub rust_name: &'static str,
    /// `module_path!()` of the Rust function.
    pub module: &'static str,
    /// The Rust doc comment.
    pub doc: &'static str,
    /// Parameters in order.
    pub params: &'static [ParamDesc],
    /// The return type.
    pub ret: TypeDesc,
    /// The paired free export for owned returns.
    pub free: Option<&'static str>,
    /// For an `#[export] impl` item: the type (`TypeDesc::Object`).
    pub owner: Option<TypeDesc>,
    /// `function`, `constructor`, `method` (`&self`), `method_mut`
    /// (`&mut self`, both take the handle first) or `static`.
    pub kind: &'static str,
    /// The CPython fast path, for exports whose parameters and result the
    /// runtime reads and builds natively (see [`crate::python`]).
    pub python: Option<crate::abi::FastFn>,
    /// Whether `python` can be used in this process: false when a
    /// parameter or the result has no native form (a type the macro only
    /// knows by name), or is a record whose class the helper did not
    /// register. Such an export keeps the ctypes path.
    pub python_ready: fn() -> bool,
    /// `#[export(batch)]`: the export that loops the function over arrays,
    /// `<name>_batch(size_t len, const A *a, size_t a_step, ..., R *out)`.
    pub batch: Option<&'static str>,
    /// An `async fn`: the export `name` starts a task, and this one,
    /// `<name>_finish(uint64_t task)`, returns its result (see
    /// [`crate::task`]).
    pub finish: Option<&'static str>,
    /// `#[export(getter)]` / `#[export(setter)]`: the method reads or
    /// writes a property of its object (`"property"` in the JSON, absent
    /// for other exports).
    pub property: Option<PropertyDesc>,
    /// `#[export(keep_gil)]`: Python calls keep the GIL held (the fast path
    /// does not release it, the helper's ctypes path calls it as a
    /// `PyDLL` function).
    pub keep_gil: bool,
}

impl ExportDesc {
    /// The fast function, when the export has one usable in this process
    /// (see [`ExportDesc::python_ready`]).
    pub fn fast(&self) -> Option<crate::abi::FastFn> {
        self.python.filter(|_| (self.python_ready)())
    }
}

/// The property a getter or setter method stands for.
#[derive(Debug)]
pub struct PropertyDesc {
    /// The property's name (the getter's; the setter is `set_<name>`).
    pub name: &'static str,
    /// The setter (`obj.name = value`), else the getter.
    pub setter: bool,
}

/// All exports linked into this library.
#[linkme::distributed_slice]
pub static EXPORTS: [ExportDesc];

/// Moves an error value (a `Box<T>` as `Box<dyn Any>`) into its C form,
/// or gives `None` when it is not of the entry's type.
pub type ErrorEncoder = fn(Box<dyn core::any::Any>) -> Option<crate::abi::ErrorRepr>;

/// An `#[export]` type (record, enum, object), registered whether or not an
/// export mentions it: the description lists every one, and the runtime
/// can find a type's entry from a value's [`TypeId`](core::any::TypeId).
#[derive(Debug)]
pub struct TypeEntry {
    /// Its description (`TypeDesc::Record`, `Enum`, `DataEnum`, `Object`).
    pub desc: TypeDesc,
    /// `TypeId::of::<T>()`.
    pub type_id: fn() -> core::any::TypeId,
    /// For records and enums: how an `Err` of this type keeps its value
    /// (`data::encode_error::<T>`); `None` for objects.
    pub error: Option<ErrorEncoder>,
}

/// All `#[export]` types linked into this library.
#[linkme::distributed_slice]
pub static TYPES: [TypeEntry];

/// The registered entry of type `T`, if `T` is an `#[export]` type.
pub fn type_entry<T: 'static>() -> Option<&'static TypeEntry> {
    let wanted = core::any::TypeId::of::<T>();
    TYPES.iter().find(|entry| (entry.type_id)() == wanted)
}

/// The description of `E` when its errors carry their value (an
/// `#[export]` record or enum): `TypeDesc::Result::error_type`.
pub fn error_type<E: 'static>() -> Option<&'static TypeDesc> {
    type_entry::<E>()
        .filter(|entry| entry.error.is_some())
        .map(|entry| &entry.desc)
}

/// The key of a named type in the description's `types` (`module::Name`),
/// `None` for other types.
pub fn type_key(ty: &TypeDesc) -> Option<String> {
    NamedTypes::key(ty)
}

/// The short, Python-friendly name of an error type: `ParseIntError` for
/// `core::num::error::ParseIntError`, the trait's name for `Box<dyn Trait>`,
/// and `Error` for plain string errors (`String`, `&str`).
pub fn short_type_name<E: ?Sized>() -> &'static str {
    let full = core::any::type_name::<E>();
    // Every `Err` asks for its type's name: the names found are kept per
    // thread (by the full name's address and length, a pure function of
    // its text), so the text is parsed once per type and thread.
    thread_local! {
        static KNOWN: core::cell::RefCell<Vec<((usize, usize), &'static str)>> =
            const { core::cell::RefCell::new(Vec::new()) };
    }
    let key = (full.as_ptr() as usize, full.len());
    let found = KNOWN.try_with(|known| {
        let mut known = known.try_borrow_mut().ok()?;
        if let Some(&(_, short)) = known.iter().find(|(k, _)| *k == key) {
            return Some(short);
        }
        let short = short_name(full);
        if known.len() < SHORT_NAMES_KEPT {
            known.push((key, short));
        }
        Some(short)
    });
    found.ok().flatten().unwrap_or_else(|| short_name(full))
}

/// How many error types' short names each thread keeps.
const SHORT_NAMES_KEPT: usize = 64;

fn short_name(full: &'static str) -> &'static str {
    let mut name = full.trim_start_matches('&');
    if let Some(rest) = name.strip_prefix("'static ") {
        name = rest;
    }
    // `Box<dyn Trait + Send + Sync>` is named after the trait.
    let head = name.split('<').next().unwrap_or(name);
    if head.rsplit("::").next() == Some("Box") {
        if let Some(inner) = name[head.len()..].strip_prefix("<dyn ") {
            let end = inner.find([' ', '<', '>']).unwrap_or(inner.len());
            name = &inner[..end];
        }
    }
    let head = name.split('<').next().unwrap_or(name);
    let last = head.rsplit("::").next().unwrap_or(head);
    let is_ident = last
        .chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_')
        && last.chars().all(|c| c.is_alphanumeric() || c == '_');
    match last {
        "str" | "String" | "Cow" => "Error",
        _ if is_ident => last,
        _ => "Error",
    }
}

fn write_json_string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// The named types (records, enums) met while writing, by key.
#[derive(Default)]
struct NamedTypes {
    seen: Vec<(String, TypeDesc)>,
}

impl NamedTypes {
    fn key(ty: &TypeDesc) -> Option<String> {
        match ty {
            TypeDesc::Record(d) => Some(format!("{}::{}", d().module, d().name)),
            TypeDesc::Enum(d) => Some(format!("{}::{}", d().module, d().name)),
            TypeDesc::Object(d) => Some(format!("{}::{}", d().module, d().name)),
            TypeDesc::DataEnum(d) => Some(format!("{}::{}", d().module, d().name)),
            TypeDesc::Trait(d) => Some(format!("{}::{}", d().module, d().name)),
            _ => None,
        }
    }

    fn note(&mut self, ty: &TypeDesc) -> String {
        let key = Self::key(ty).unwrap_or_default();
        if !self.seen.iter().any(|(k, _)| *k == key) {
            self.seen.push((key.clone(), *ty));
        }
        key
    }
}

fn write_type(out: &mut String, ty: &TypeDesc, named: &mut NamedTypes) {
    match ty {
        TypeDesc::Unit => out.push_str(r#"{"kind":"unit"}"#),
        TypeDesc::Scalar(name) => {
            let _ = write!(out, r#"{{"kind":"scalar","name":"{name}"}}"#);
        }
        TypeDesc::Str => out.push_str(r#"{"kind":"str"}"#),
        TypeDesc::CStr => out.push_str(r#"{"kind":"cstr"}"#),
        TypeDesc::StrList => out.push_str(r#"{"kind":"str_list"}"#),
        TypeDesc::Allocator => out.push_str(r#"{"kind":"allocator"}"#),
        TypeDesc::Callback { params, ret }
        | TypeDesc::Closure { params, ret }
        | TypeDesc::FnRef { params, ret } => {
            let kind = match ty {
                TypeDesc::Closure { .. } => "closure",
                TypeDesc::FnRef { .. } => "fn_ref",
                _ => "callback",
            };
            let _ = write!(out, r#"{{"kind":"{kind}","params":["#);
            for (i, param) in params.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_type(out, param, named);
            }
            out.push_str(r#"],"ret":"#);
            write_type(out, ret, named);
            out.push('}');
        }
        TypeDesc::Slice { elem, mutable } => {
            out.push_str(r#"{"kind":"slice","elem":"#);
            write_type(out, elem, named);
            let _ = write!(out, r#","mutable":{mutable}}}"#);
        }
        TypeDesc::String => out.push_str(r#"{"kind":"string"}"#),
        TypeDesc::Map { key, value, sorted } => {
            out.push_str(r#"{"kind":"map","key":"#);
            write_type(out, key, named);
            out.push_str(r#","value":"#);
            write_type(out, value, named);
            let _ = write!(out, r#","sorted":{sorted}}}"#);
        }
        TypeDesc::Set { elem, sorted } => {
            out.push_str(r#"{"kind":"set","elem":"#);
            write_type(out, elem, named);
            let _ = write!(out, r#","sorted":{sorted}}}"#);
        }
        TypeDesc::Tuple(elems) => {
            out.push_str(r#"{"kind":"tuple","elems":["#);
            for (i, elem) in elems.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_type(out, elem, named);
            }
            out.push_str("]}");
        }
        TypeDesc::Iterator(iter) => {
            out.push_str(r#"{"kind":"iterator","item":"#);
            write_type(out, &iter.item(), named);
            out.push_str(r#","chunk":"#);
            write_type(out, &(iter.chunk)(), named);
            out.push_str(r#","next":"#);
            write_json_string(out, iter.next);
            out.push_str(r#","next_free":"#);
            write_json_string(out, iter.next_free);
            out.push_str(r#","free":"#);
            write_json_string(out, iter.free);
            out.push('}');
        }
        TypeDesc::Vec(elem) => {
            out.push_str(r#"{"kind":"vec","elem":"#);
            write_type(out, elem, named);
            out.push('}');
        }
        TypeDesc::Option(inner) => {
            out.push_str(r#"{"kind":"option","inner":"#);
            write_type(out, inner, named);
            out.push('}');
        }
        TypeDesc::Result {
            ok,
            error,
            error_type,
        } => {
            out.push_str(r#"{"kind":"result","ok":"#);
            write_type(out, ok, named);
            out.push_str(r#","error":"#);
            write_json_string(out, error());
            out.push_str(r#","error_type":"#);
            match error_type() {
                Some(desc) => write_type(out, desc, named),
                None => out.push_str("null"),
            }
            out.push('}');
        }
        TypeDesc::Shared(object) => {
            // `{"kind":"shared","key":..}`: the object's key (and its entry
            // in `types`), spelled `Arc<T>`.
            let key = named.note(object);
            out.push_str(r#"{"kind":"shared","key":"#);
            write_json_string(out, &key);
            out.push('}');
        }
        TypeDesc::Record(_)
        | TypeDesc::Enum(_)
        | TypeDesc::Object(_)
        | TypeDesc::DataEnum(_)
        | TypeDesc::Trait(_) => {
            let kind = match ty {
                TypeDesc::Record(_) => "record",
                TypeDesc::Enum(_) => "enum",
                TypeDesc::DataEnum(_) => "data_enum",
                TypeDesc::Trait(_) => "trait",
                _ => "object",
            };
            let key = named.note(ty);
            let _ = write!(out, r#"{{"kind":"{kind}","key":"#);
            write_json_string(out, &key);
            out.push('}');
        }
    }
}

/// `{"kind":KIND,"name":..,"module":..,"doc":..` (left open for more keys).
fn write_header(out: &mut String, kind: &str, name: &str, module: &str, doc: &str) {
    let _ = write!(out, r#"{{"kind":"{kind}","name":"#);
    write_json_string(out, name);
    out.push_str(r#","module":"#);
    write_json_string(out, module);
    out.push_str(r#","doc":"#);
    write_json_string(out, doc);
}

/// `,"default":<JSON>` when there is a default.
fn write_default(out: &mut String, default: Option<&str>) {
    if let Some(json) = default {
        out.push_str(r#","default":"#);
        out.push_str(json);
    }
}

/// `[{"name":..,"type":..(,"default":..)},...]`.
fn write_fields(out: &mut String, fields: &[FieldDesc], named: &mut NamedTypes) {
    out.push('[');
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(r#"{"name":"#);
        write_json_string(out, field.name);
        out.push_str(r#","type":"#);
        write_type(out, &field.ty, named);
        write_default(out, field.default);
        out.push('}');
    }
    out.push(']');
}

fn write_named(out: &mut String, ty: &TypeDesc, named: &mut NamedTypes) {
    match ty {
        TypeDesc::Record(desc) => {
            let desc = desc();
            write_header(out, "record", desc.name, desc.module, desc.doc);
            let _ = write!(
                out,
                r#","pod":{},"size":{},"align":{},"fields":"#,
                desc.pod, desc.size, desc.align
            );
            write_fields(out, desc.fields, named);
            out.push('}');
        }
        TypeDesc::Enum(desc) => {
            let desc = desc();
            write_header(out, "enum", desc.name, desc.module, desc.doc);
            let _ = write!(out, r#","repr":"{}","variants":["#, desc.repr);
            for (i, (name, value)) in desc.variants.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push('[');
                write_json_string(out, name);
                let _ = write!(out, ",{value}]");
            }
            out.push_str("]}");
        }
        TypeDesc::DataEnum(desc) => {
            let desc = desc();
            write_header(out, "data_enum", desc.name, desc.module, desc.doc);
            out.push_str(r#","variants":["#);
            for (i, variant) in desc.variants.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(r#"{"name":"#);
                write_json_string(out, variant.name);
                let _ = write!(out, r#","tuple":{},"fields":"#, variant.tuple);
                write_fields(out, variant.fields, named);
                out.push('}');
            }
            out.push_str("]}");
        }
        TypeDesc::Object(desc) => {
            let desc = desc();
            write_header(out, "object", desc.name, desc.module, desc.doc);
            out.push_str(r#","free":"#);
            write_json_string(out, desc.free);
            out.push('}');
        }
        TypeDesc::Trait(desc) => {
            let desc = desc();
            write_header(out, "trait", desc.name, desc.module, desc.doc);
            out.push_str(r#","object":"#);
            write_type(out, &desc.object, named);
            out.push_str(r#","methods":["#);
            for (i, method) in desc.methods.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(r#"{"name":"#);
                write_json_string(out, method.name);
                out.push_str(r#","doc":"#);
                write_json_string(out, method.doc);
                out.push_str(r#","params":["#);
                for (j, param) in method.params.iter().enumerate() {
                    if j > 0 {
                        out.push(',');
                    }
                    out.push_str(r#"{"name":"#);
                    write_json_string(out, param.name);
                    out.push_str(r#","type":"#);
                    write_type(out, &param.ty, named);
                    out.push('}');
                }
                out.push_str(r#"],"returns":"#);
                write_type(out, &method.ret, named);
                out.push('}');
            }
            out.push_str("]}");
        }
        _ => out.push_str("null"),
    }
}

/// The JSON description of `exports` (sorted by name), with every record
/// and enum they mention under `types`.
pub fn describe_json(exports: &[ExportDesc]) -> String {
    let mut sorted: Vec<&ExportDesc> = exports.iter().collect();
    sorted.sort_by_key(|e| e.name);
    let mut named = NamedTypes::default();
    let mut out = String::with_capacity(256 * sorted.len() + 64);
    let _ = write!(
        out,
        r#"{{"abi_version":{ABI_VERSION},"ffi_export_version":"{}","exports":["#,
        env!("CARGO_PKG_VERSION")
    );
    for (i, export) in sorted.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(r#"{"name":"#);
        write_json_string(&mut out, export.name);
        out.push_str(r#","rust_name":"#);
        write_json_string(&mut out, export.rust_name);
        out.push_str(r#","module":"#);
        write_json_string(&mut out, export.module);
        out.push_str(r#","doc":"#);
        write_json_string(&mut out, export.doc);
        out.push_str(r#","params":["#);
        for (j, param) in export.params.iter().enumerate() {
            if j > 0 {
                out.push(',');
            }
            out.push_str(r#"{"name":"#);
            write_json_string(&mut out, param.name);
            out.push_str(r#","type":"#);
            write_type(&mut out, &param.ty, &mut named);
            write_default(&mut out, param.default);
            if param.borrowed {
                out.push_str(r#","borrowed":true"#);
            }
            if param.mutable {
                out.push_str(r#","mutable":true"#);
            }
            out.push('}');
        }
        out.push_str(r#"],"returns":"#);
        write_type(&mut out, &export.ret, &mut named);
        out.push_str(r#","free":"#);
        match export.free {
            Some(free) => write_json_string(&mut out, free),
            None => out.push_str("null"),
        }
        out.push_str(r#","owner":"#);
        match &export.owner {
            Some(owner) => write_type(&mut out, owner, &mut named),
            None => out.push_str("null"),
        }
        out.push_str(r#","kind":"#);
        write_json_string(&mut out, export.kind);
        let _ = write!(out, r#","fast":{}"#, export.python.is_some());
        out.push_str(r#","batch":"#);
        match export.batch {
            Some(batch) => write_json_string(&mut out, batch),
            None => out.push_str("null"),
        }
        if let Some(finish) = export.finish {
            out.push_str(r#","finish":"#);
            write_json_string(&mut out, finish);
        }
        if let Some(property) = &export.property {
            out.push_str(r#","property":{"name":"#);
            write_json_string(&mut out, property.name);
            let _ = write!(out, r#","setter":{}}}"#, property.setter);
        }
        if export.keep_gil {
            out.push_str(r#","keep_gil":true"#);
        }
        out.push('}');
    }
    out.push_str(r#"],"types":{"#);
    // Every registered type, mentioned by an export or not.
    let mut registered: Vec<&TypeEntry> = TYPES.iter().collect();
    registered.sort_by_key(|entry| NamedTypes::key(&entry.desc));
    for entry in registered {
        named.note(&entry.desc);
    }
    // Writing a type may mention more types: walk until none are new.
    let mut written = 0;
    while written < named.seen.len() {
        let (key, ty) = named.seen[written].clone();
        if written > 0 {
            out.push(',');
        }
        write_json_string(&mut out, &key);
        out.push(':');
        write_named(&mut out, &ty, &mut named);
        written += 1;
    }
    out.push_str(r#"},"abi_types":["#);
    write_abi_types(&mut out);
    out.push_str("]}");
    out
}

/// The runtime's ABI structs ([`crate::abi::ABI_TYPES`]): the one source
/// the helper's ctypes mirrors and the C header's definitions are made from.
fn write_abi_types(out: &mut String) {
    for (i, desc) in crate::abi::ABI_TYPES.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(r#"{"name":"#);
        write_json_string(out, desc.name);
        out.push_str(r#","doc":"#);
        write_json_string(out, desc.doc);
        out.push_str(r#","generic":"#);
        write_json_string(out, desc.generic);
        let _ = write!(
            out,
            r#","size":{},"align":{},"fields":["#,
            desc.size, desc.align
        );
        for (j, field) in desc.fields.iter().enumerate() {
            if j > 0 {
                out.push(',');
            }
            out.push_str(r#"{"name":"#);
            write_json_string(out, field.name);
            out.push_str(r#","c_type":"#);
            write_json_string(out, field.c_type);
            let _ = write!(out, r#","offset":{}}}"#, field.offset);
        }
        out.push_str("]}");
    }
}

/// Returns this library's self-description: a NUL-terminated UTF-8 JSON
/// document owned by the library (valid until it is unloaded; do not free).
#[no_mangle]
pub extern "C" fn ffi_export_describe() -> *const c_char {
    static JSON: OnceLock<CString> = OnceLock::new();
    JSON.get_or_init(|| {
        let json = describe_json(&EXPORTS);
        // Rust strings in the description never hold NUL; escape defensively.
        CString::new(json.replace('\0', "\\u0000")).unwrap_or_default()
    })
    .as_ptr()
}

/// Returns [`ABI_VERSION`], so a loader can refuse an incompatible library
/// before parsing anything.
#[no_mangle]
pub extern "C" fn ffi_export_abi_version() -> u32 {
    ABI_VERSION
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names() {
        assert_eq!(
            short_type_name::<std::num::ParseIntError>(),
            "ParseIntError"
        );
        assert_eq!(short_type_name::<String>(), "Error");
        assert_eq!(short_type_name::<&str>(), "Error");
        assert_eq!(
            short_type_name::<Box<dyn std::error::Error + Send + Sync>>(),
            "Error"
        );
        assert_eq!(short_type_name::<Box<dyn std::fmt::Display>>(), "Display");
        assert_eq!(short_type_name::<Vec<u8>>(), "Vec");
        assert_eq!(short_type_name::<(u8, u8)>(), "Error");
    }

    static PARAMS: [ParamDesc; 2] = [
        ParamDesc {
            name: "text",
            ty: TypeDesc::Str,
            default: Some(r#""hi""#),
            borrowed: false,
            mutable: false,
        },
        ParamDesc {
            name: "out",
            ty: TypeDesc::Slice {
                elem: &TypeDesc::Scalar("f64"),
                mutable: true,
            },
            default: None,
            borrowed: false,
            mutable: false,
        },
    ];

    #[test]
    fn json_escapes_and_nests() {
        static OK: TypeDesc = TypeDesc::Option(&TypeDesc::Vec(&TypeDesc::Scalar("i32")));
        let export = ExportDesc {
            name: "m_f",
            rust_name: "f",
            module: "m::n",
            doc: "says \"hi\"\n\tand \\ more\u{1}",
            params: &PARAMS,
            ret: TypeDesc::Result {
                ok: &OK,
                error: short_type_name::<std::num::ParseIntError>,
                error_type: error_type::<std::num::ParseIntError>,
            },
            free: Some("f_free"),
            owner: None,
            kind: "function",
            python: None,
            python_ready: always_ready,
            batch: None,
            finish: None,
            property: None,
            keep_gil: false,
        };
        let json = describe_json(std::slice::from_ref(&export));
        assert!(
            json.contains(r#""doc":"says \"hi\"\n\tand \\ more\u0001""#),
            "{json}"
        );
        assert!(json.contains(
            r#""returns":{"kind":"result","ok":{"kind":"option","inner":{"kind":"vec","elem":{"kind":"scalar","name":"i32"}}},"error":"ParseIntError","error_type":null}"#
        ), "{json}");
        assert!(
            json.contains(r#"{"name":"out","type":{"kind":"slice","elem":{"kind":"scalar","name":"f64"},"mutable":true}}"#)
        );
        assert!(json.contains(r#""free":"f_free""#));
        // A default is written as the JSON the macro made, only when set.
        assert!(
            json.contains(r#"{"name":"text","type":{"kind":"str"},"default":"hi"}"#),
            "{json}"
        );
        assert!(json.contains(r#"{"name":"m_f","rust_name":"f","module":"m::n","#));
        // `borrowed` is written only when true: older readers see no new key.
        assert!(!json.contains("borrowed"), "{json}");
    }

    #[test]
    fn borrowed_parameters_say_so() {
        fn record() -> &'static RecordDesc {
            static DESC: RecordDesc = RecordDesc {
                name: "Person",
                module: "m",
                doc: "",
                fields: &[],
                pod: false,
                size: 0,
                align: 1,
            };
            &DESC
        }
        static BORROWED: [ParamDesc; 1] = [ParamDesc {
            name: "p",
            ty: TypeDesc::Record(record),
            default: None,
            borrowed: true,
            mutable: false,
        }];
        let export = ExportDesc {
            name: "f",
            rust_name: "f",
            module: "m",
            doc: "",
            params: &BORROWED,
            ret: TypeDesc::Unit,
            free: None,
            owner: None,
            kind: "function",
            python: None,
            python_ready: always_ready,
            batch: None,
            finish: None,
            property: None,
            keep_gil: false,
        };
        let json = describe_json(std::slice::from_ref(&export));
        assert!(
            json.contains(r#""params":[{"name":"p","type":{"kind":"record","key":"m::Person"},"borrowed":true}]"#),
            "{json}"
        );
    }

    #[test]
    fn object_parameters_and_shared_objects_describe_their_borrow() {
        fn object() -> &'static ObjectDesc {
            static DESC: ObjectDesc = ObjectDesc {
                name: "Item",
                module: "m",
                doc: "",
                free: "Item_free",
                release: |_| {},
            };
            &DESC
        }
        static OBJECT: TypeDesc = TypeDesc::Object(object);
        static SHARED: TypeDesc = TypeDesc::Shared(&OBJECT);
        static PARAMS: [ParamDesc; 2] = [
            ParamDesc {
                name: "a",
                ty: TypeDesc::Object(object),
                default: None,
                borrowed: true,
                mutable: true,
            },
            ParamDesc {
                name: "b",
                ty: TypeDesc::Shared(&OBJECT),
                default: None,
                borrowed: false,
                mutable: false,
            },
        ];
        let export = ExportDesc {
            name: "f",
            rust_name: "f",
            module: "m",
            doc: "",
            params: &PARAMS,
            ret: TypeDesc::Vec(&SHARED),
            free: None,
            owner: None,
            kind: "function",
            python: None,
            python_ready: always_ready,
            batch: None,
            finish: None,
            property: None,
            keep_gil: false,
        };
        let json = describe_json(std::slice::from_ref(&export));
        assert!(json.contains(r#"{"name":"a","type":{"kind":"object","key":"m::Item"},"borrowed":true,"mutable":true}"#), "{json}");
        assert!(
            json.contains(r#"{"name":"b","type":{"kind":"shared","key":"m::Item"}}"#),
            "{json}"
        );
        assert!(
            json.contains(r#""returns":{"kind":"vec","elem":{"kind":"shared","key":"m::Item"}}"#),
            "{json}"
        );
        // The object itself is described once, under `types`.
        assert!(
            json.contains(r#""m::Item":{"kind":"object","name":"Item""#),
            "{json}"
        );
        assert_eq!(SHARED.to_string(), "Arc<Item>");
    }
}
