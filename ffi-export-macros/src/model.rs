//! The model of an `#[export]`ed item: what `parse` builds from syn, what
//! `validate` checks and `expand` turns into tokens. Every parameter and
//! return type is classified here once; what the macro could not classify
//! is recorded as data (`ParamKind::Unsupported`, `ReturnKind::Unsupported`)
//! for `validate` to report.
//!
//! The model keeps the syn item it came from: the item is emitted unchanged,
//! and its tokens give every diagnostic its span.

use proc_macro2::{Span, TokenStream};
use syn::ext::IdentExt;
use syn::{Ident, Lifetime, LitStr, Signature, Type};

/// The primitive types, by name: the one list the macro knows them by.
pub const PRIMITIVES: [&str; 13] = [
    "i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64", "isize", "usize", "f32", "f64", "bool",
];

/// The integer primitives (the first ten): `#[repr]` types of enums.
pub const INTEGERS: &[&str] = PRIMITIVES.split_at(10).0;

/// The 128-bit integers: no C type, they cross as two halves (named types
/// to the macro), but their default values are integers.
pub const WIDE_INTEGERS: [&str; 2] = ["i128", "u128"];

/// What `#[export]` was put on.
// One per macro invocation, never copied: the variants' sizes do not matter.
#[allow(clippy::large_enum_variant)]
pub enum Item {
    /// `fn`.
    Function(Function),
    /// `struct`: a record, or `#[repr(C)]` plain data.
    Record(Record),
    /// `enum`: field-less, or with data.
    Enum(Enum),
    /// An `impl` block: an object type and its methods.
    Object(Object),
    /// A trait the caller may implement (`Box<dyn T>`, `Arc<dyn T>`).
    Trait(Trait),
    /// Anything else (a trait, a const, ..): rejected.
    Other(syn::Item),
}

/// `#[export] fn`.
pub struct Function {
    /// The function as written.
    pub item: syn::ItemFn,
    /// The attribute's arguments.
    pub args: Args,
    /// The exported callable.
    pub export: ExportFn,
}

/// The arguments of `#[export(..)]`, as written.
#[derive(Default)]
pub struct Args {
    /// `name = "symbol"` (checked to be a C identifier by `validate`).
    pub name: Option<LitStr>,
    /// `batch`: also export a loop over arrays.
    pub batch: Option<Span>,
    /// Traits (and method roles) that become Python protocols:
    /// `Display`, `Eq`, `Index<usize>`, `len`.. (checked by `validate`).
    pub protocols: Vec<ProtocolArg>,
    /// `keep_gil`: the Python call keeps the GIL (a tiny function).
    pub keep_gil: Option<Span>,
    /// Arguments that are none of these.
    pub unknown: Vec<syn::Path>,
    /// What syn could not parse (the arguments after it are not read).
    pub malformed: Option<syn::Error>,
}

/// An exported function, or a `pub fn` of an `#[export] impl`.
pub struct ExportFn {
    /// The Rust signature, `Self` replaced by the owner (generated code
    /// lives outside the impl block).
    pub sig: Signature,
    /// What kind of callable it is.
    pub kind: FnKind,
    /// The `impl` block's self type, for associated functions.
    pub owner: Option<Type>,
    /// The exported C symbol.
    pub c_name: String,
    /// Where the C name came from (the fn name or the `name = ".."` literal).
    pub c_name_span: Span,
    /// The doc comment, one line per `#[doc]` attribute.
    pub doc: String,
    /// Lifetimes declared on the function and its impl block (reported
    /// where declared, not at each use).
    pub declared_lifetimes: Vec<Lifetime>,
    /// Parameters in order (the receiver is not one).
    pub params: Vec<Param>,
    /// The return type.
    pub ret: Return,
    /// `#[export(batch)]`: also export `<name>_batch`, the function looped
    /// over arrays (checked by `validate`).
    pub batch: Option<Span>,
    /// `#[export(getter)]` / `#[export(setter)]` on a method of an
    /// `#[export] impl` (checked by `validate`).
    pub role: MethodRole,
    /// `#[export(keep_gil)]`: Python calls keep the GIL held during the
    /// call (checked by `validate`).
    pub keep_gil: Option<Span>,
}

/// What `#[export(..)]` on a method of an `#[export] impl` says: the
/// method is a property's getter (named as the method) or setter (the
/// method `set_<name>`).
#[derive(Default)]
pub struct MethodRole {
    /// `#[export(getter)]`.
    pub getter: Option<Span>,
    /// `#[export(setter)]`.
    pub setter: Option<Span>,
}

impl ExportFn {
    /// `(property name, is the setter)` of a getter or setter method.
    pub fn property(&self) -> Option<(String, bool)> {
        let name = self.sig.ident.unraw().to_string();
        if self.role.getter.is_some() {
            Some((name, false))
        } else if self.role.setter.is_some() {
            Some((name.strip_prefix("set_").unwrap_or(&name).to_owned(), true))
        } else {
            None
        }
    }
}

/// Free function or associated function of an object type.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum FnKind {
    /// A free function.
    Function,
    /// An associated function returning `Self` (or `Result`/`Option` of it).
    Constructor,
    /// A `&self` (`mutable: false`) or `&mut self` method.
    Method {
        /// `&mut self`.
        mutable: bool,
    },
    /// A `self: Arc<Self>` method of a shared object.
    SharedMethod,
    /// An associated function without `self` that returns no object (or a
    /// method whose receiver `validate` rejects).
    Static,
    /// The shim of a trait a type opted in to (`#[export(Eq)]`): every
    /// operand an explicit parameter, the owner the type (a record, enum or
    /// object) whose Python class gets the dunder.
    Protocol,
    /// The shim of a protocol of one object (`Display`, `Hash`, `len`..):
    /// a `&self` method, so the CPython fast path takes it like any.
    ProtocolMethod,
}

impl FnKind {
    /// Whether the object's handle is the first C argument.
    pub fn has_receiver(self) -> bool {
        matches!(
            self,
            FnKind::Method { .. } | FnKind::SharedMethod | FnKind::ProtocolMethod
        )
    }

    /// A protocol shim (`<prefix>_eq`, ..), described by its protocol.
    pub fn is_protocol(self) -> bool {
        matches!(self, FnKind::Protocol | FnKind::ProtocolMethod)
    }

    /// The name used in the self-description.
    pub fn describe(self) -> &'static str {
        match self {
            FnKind::Function => "function",
            FnKind::Constructor => "constructor",
            FnKind::Method { mutable: false } => "method",
            FnKind::Method { mutable: true } => "method_mut",
            FnKind::SharedMethod => "method_shared",
            FnKind::Static => "static",
            FnKind::Protocol => "protocol",
            FnKind::ProtocolMethod => "protocol_method",
        }
    }
}

/// One parameter.
pub struct Param {
    /// The name in the self-description (the Rust binding, or `argN`).
    pub name: String,
    /// The type as written (`Self` replaced).
    pub ty: Type,
    /// How it crosses.
    pub kind: ParamKind,
    /// An owned value the CPython fast path reads itself (a `Named` or
    /// `Option` kind made of primitives, `String`, `Vec`, `Option`, maps
    /// and tuples).
    pub native: bool,
    /// The parameter's span (`pattern: type`), for generated code.
    pub span: Span,
    /// Its `#[ffi(..)]` attributes (taken off the emitted item).
    pub ffi: FfiAttrs,
}

/// What `#[ffi(..)]` attributes on a parameter or field say.
#[derive(Default)]
pub struct FfiAttrs {
    /// `#[ffi(default)]` or `#[ffi(default = value)]`.
    pub default: Option<DefaultArg>,
    /// Malformed or unknown arguments, for `validate` to report.
    pub problems: Vec<Problem>,
}

/// Something `parse` could not make sense of, at the tokens it is about:
/// `validate` reports it.
pub struct Problem {
    /// The tokens the error spans.
    pub tokens: TokenStream,
    /// What is wrong and what to write instead.
    pub message: String,
}

/// A default value for Python (signatures, `help()`, stubs); Rust still
/// receives every argument.
pub struct DefaultArg {
    /// The value, or why it cannot be one.
    pub value: Result<DefaultValue, Problem>,
}

/// A default value, classified against the type it is the default of.
pub struct DefaultValue {
    /// The value as JSON for the self-description: a number, string,
    /// `true`/`false`, `null` (`None`), an array (a sequence or tuple), `{}`
    /// (an empty map) or `{"variant": "Name"}` (an enum's unit variant).
    pub json: String,
    /// `(type, value)` pairs rustc checks (`const _: T = value;`), spanned
    /// at the value: a literal out of range or of the wrong type, or a
    /// variant of another enum, is a compile error there.
    pub checks: Vec<(Type, syn::Expr)>,
}

/// How a parameter crosses: the number and types of its C arguments.
pub enum ParamKind {
    /// A primitive written by its name (`i32`, `bool`): one C argument of
    /// its `FfiParam::Abi`. The CPython fast path and `batch` take these.
    Primitive(Type),
    /// `&str`: pointer and length.
    Str,
    /// `&CStr`: one NUL-terminated pointer.
    CStr,
    /// `&[&str]`: pointer to string views and count.
    StrList,
    /// `&[T]` or `&mut [T]`: pointer and length.
    Slice {
        /// The element type, checked through `FfiElement`.
        elem: Type,
        /// `&mut [T]`.
        mutable: bool,
        /// The element is a number written by its name (not `bool`): the
        /// CPython fast path takes it from a buffer.
        numeric: bool,
    },
    /// `&R` of an `#[export]` struct or enum with data (`R`): a pointer to
    /// its C form, copied in; or of an object of an `#[export] impl`: its
    /// handle, borrowed from the registry (`FfiBorrow` decides).
    Ref(Type),
    /// `&mut R` of an object of an `#[export] impl` (`FfiBorrowMut`; other
    /// types are an error there): its handle, borrowed exclusively.
    RefMut(Type),
    /// `Option<T>` (the whole type): a pointer to `T`'s C form, NULL for
    /// `None`.
    Option(Type),
    /// `Callback<fn(..) -> R>` (the whole type).
    Callback(Type),
    /// `Allocator` (the whole type).
    Allocator(Type),
    /// `&dyn Fn(A..) -> R` or `impl Fn(A..) -> R` (`FnMut`, `FnOnce`): a
    /// function of the caller's borrowed for the call, with arguments and
    /// a result of any type that crosses.
    FnRef {
        /// The argument types as written (`&str` too).
        args: Vec<Type>,
        /// The result type, `None` for `()`.
        ret: Option<Type>,
        /// `impl Fn..`: the closure is passed by value, not by reference.
        by_value: bool,
    },
    /// Any other named type: an `#[export]` struct or enum, or an alias the
    /// macro cannot see through. Crosses by its `FfiParam` impl, and is an
    /// error at the type if it has none.
    Named(Type),
    /// A type the macro rejects: `validate` says why.
    Unsupported(UnsupportedParam),
}

/// A parameter type the macro rejects.
pub enum UnsupportedParam {
    /// `&mut str`.
    MutStr,
    /// `&mut CStr`.
    MutCStr,
    /// `&[T]` of an element that is not a named type (`&[(i32, i32)]`).
    SliceElement(Type),
    /// `&String` or `&mut String`.
    RefString {
        /// `&mut`.
        mutable: bool,
    },
    /// `&Vec<T>` or `&mut Vec<T>`.
    RefVec {
        /// `&mut`.
        mutable: bool,
    },
    /// Any other reference: to a primitive, `&mut` of a record, to a tuple..
    Reference {
        /// The referenced type.
        elem: Type,
        /// `&mut`.
        mutable: bool,
        /// The referenced type is named like a primitive.
        primitive: bool,
    },
    /// `&dyn FnMut(..)`, `&mut dyn FnMut(..)`, `&dyn FnOnce(..)`, ..: a
    /// callback of another trait than `Fn` or taken mutably.
    FnRefKind,
    /// `impl Fn(..) + 'a`: the callback lives for the call only (the
    /// lifetime as written).
    CallbackLifetime(syn::Lifetime),
    /// `impl Trait` of another trait than `Fn`, `FnMut` or `FnOnce`.
    ImplTrait,
    /// `*const T`, `*mut T`.
    Pointer,
    /// `()`.
    Unit,
    /// Anything else (an array, a function pointer, `dyn Trait`, ..),
    /// without its grouping.
    Other(Type),
}

/// The return type.
pub struct Return {
    /// `None` for `()`, written or not.
    pub ty: Option<Type>,
    /// How it crosses.
    pub kind: ReturnKind,
    /// Whether it names the impl's own type (objects become handles on the
    /// way out; an associated function returning one is a constructor).
    pub has_self: bool,
    /// References written inside it (`Option<&str>`, `Vec<&T>`): rejected;
    /// the error type of a `Result` may borrow.
    pub borrows: Vec<Type>,
}

/// How a return value crosses.
pub enum ReturnKind {
    /// `()`, or no return type.
    Unit,
    /// A primitive written by its name.
    Primitive,
    /// `String`, written so.
    String,
    /// `Option<T>`, with `T`'s kind.
    Option(Box<ReturnKind>),
    /// `Result<T, E>`, with `T`'s kind.
    Result(Box<ReturnKind>),
    /// The object type of the impl block: a handle.
    Object,
    /// Any other type (`Vec<T>`, `#[export]` types, aliases, and inside
    /// `Option`/`Result` any type): crosses by its `IntoFfi` impl, and is
    /// an error at the type if it has none.
    Named,
    /// `impl Iterator<Item = T>` or `Box<dyn Iterator<Item = T> + Send>`
    /// (at the top level only): a handle of a `RustIter`, read by the
    /// `<name>_iter_next` export.
    Iterator(Box<IterReturn>),
    /// A type the macro rejects (at the top level only): `validate` says
    /// why.
    Unsupported(UnsupportedReturn),
}

/// A returned iterator.
pub struct IterReturn {
    /// The item type as written.
    pub item: Type,
    /// `Result<T, E>` items: `T` (each `Err` is raised at its item).
    pub ok: Option<Type>,
    /// Lifetimes bounding it (`+ '_`): it would borrow what Python may
    /// close meanwhile; rejected.
    pub lifetimes: Vec<syn::Lifetime>,
    /// `Result<impl Iterator<..>, E>`: `E`, raised by the call itself (no
    /// iterator is made then).
    pub error: Option<Type>,
    /// `Box<dyn Iterator<..>>` without `+ Send`: the trait object, rejected
    /// (the registry hands it to any thread).
    pub unsend: Option<Type>,
}

/// A return type the macro rejects.
pub enum UnsupportedReturn {
    /// `&T`.
    Reference,
    /// `impl Trait`.
    ImplTrait,
    /// `*const T`, `*mut T`.
    Pointer,
    /// `!`.
    Never,
    /// Anything else (a tuple, an array, ..), without its grouping.
    Other(Box<Type>),
}

impl ReturnKind {
    /// Visibly free of owned memory: a primitive, an object handle, or
    /// `Option`/`Result` of one. Anything else (a `String`, `Vec`, record,
    /// or an alias the macro cannot see through) gets a paired `_free`
    /// export; the self-description names it only when the type's `OWNED`
    /// is true.
    pub fn is_plain(&self) -> bool {
        match self {
            ReturnKind::Unit
            | ReturnKind::Primitive
            | ReturnKind::Object
            | ReturnKind::Iterator(_) => true,
            ReturnKind::Option(inner) | ReturnKind::Result(inner) => inner.is_plain(),
            _ => false,
        }
    }

    /// May be built directly by the CPython fast path: anything but an
    /// object, an iterator or a nested `Result`. Whether the type has a
    /// native form (`PyReturn`) is asked of the type by the generated code
    /// (the macro knows most types by name only).
    pub fn is_native_candidate(&self) -> bool {
        match self {
            ReturnKind::Unit | ReturnKind::Primitive | ReturnKind::String | ReturnKind::Named => {
                true
            }
            ReturnKind::Option(inner) => inner.is_native_candidate(),
            ReturnKind::Result(inner) => {
                !matches!(**inner, ReturnKind::Result(_)) && inner.is_native_candidate()
            }
            ReturnKind::Object => true,
            ReturnKind::Iterator(_) | ReturnKind::Unsupported(_) => false,
        }
    }

    /// A type the macro knows by name only (`Named`), alone or inside
    /// `Option`/`Result`.
    pub fn is_named(&self) -> bool {
        match self {
            ReturnKind::Named => true,
            ReturnKind::Option(inner) | ReturnKind::Result(inner) => inner.is_named(),
            _ => false,
        }
    }
}

/// A name in `#[export(..)]` that makes a Rust trait (or, on a method, a
/// role) a Python protocol.
pub struct ProtocolArg {
    /// Which one.
    pub protocol: ProtocolKind,
    /// The path as written (`Display`, `Index<usize>`): errors and the
    /// generated code that needs the trait are spanned at it.
    pub path: syn::Path,
    /// `Index<I>`: `I` (`None` when it is missing, for `validate`).
    pub arg: Option<Type>,
}

/// The traits and roles `#[export(..)]` turns into Python protocols.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ProtocolKind {
    /// `Display`: `__str__`.
    Display,
    /// `Debug`: `__repr__`.
    Debug,
    /// `PartialEq`: `__eq__`, `__ne__`.
    PartialEq,
    /// `Eq`: as `PartialEq` (`T: Eq` checked); allows `Hash`.
    Eq,
    /// `Hash`: `__hash__`.
    Hash,
    /// `PartialOrd`: `<`, `<=`, `>`, `>=`.
    PartialOrd,
    /// `Ord`: as `PartialOrd`, by `Ord::cmp`.
    Ord,
    /// `Clone`: `copy.copy`, `copy.deepcopy` of an object.
    Clone,
    /// `Default`: a constructor without arguments.
    Default,
    /// `Add`: `+`.
    Add,
    /// `Sub`: `-`.
    Sub,
    /// `Mul`: `*`.
    Mul,
    /// `Div`: `/`.
    Div,
    /// `Neg`: unary `-`.
    Neg,
    /// `Index<I>`: `obj[i]`.
    Index,
    /// `len` on a method: `len()`.
    Len,
    /// `bool` on a method: `bool()`.
    Bool,
}

impl ProtocolKind {
    /// Every trait by the name it is written with (`len` and `bool` are
    /// written on methods).
    pub const ALL: [(&'static str, ProtocolKind); 17] = [
        ("Display", ProtocolKind::Display),
        ("Debug", ProtocolKind::Debug),
        ("PartialEq", ProtocolKind::PartialEq),
        ("Eq", ProtocolKind::Eq),
        ("Hash", ProtocolKind::Hash),
        ("PartialOrd", ProtocolKind::PartialOrd),
        ("Ord", ProtocolKind::Ord),
        ("Clone", ProtocolKind::Clone),
        ("Default", ProtocolKind::Default),
        ("Add", ProtocolKind::Add),
        ("Sub", ProtocolKind::Sub),
        ("Mul", ProtocolKind::Mul),
        ("Div", ProtocolKind::Div),
        ("Neg", ProtocolKind::Neg),
        ("Index", ProtocolKind::Index),
        ("len", ProtocolKind::Len),
        ("bool", ProtocolKind::Bool),
    ];

    /// The protocol named by the last segment of `path`, if any.
    pub fn of(path: &syn::Path) -> Option<ProtocolKind> {
        let name = path.segments.last()?.ident.to_string();
        Self::ALL
            .iter()
            .find(|(written, _)| *written == name)
            .map(|(_, kind)| *kind)
    }

    /// The trait's name as written.
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, kind)| *kind == self)
            .map_or("", |(name, _)| name)
    }

    /// The shim's name: its C symbol is `<prefix>_<shim>` and the Python
    /// helper reads the protocol from it (`PartialEq` and `Eq` share `eq`,
    /// `PartialOrd` and `Ord` share `cmp`).
    pub fn shim(self) -> &'static str {
        match self {
            ProtocolKind::Display => "display",
            ProtocolKind::Debug => "debug",
            ProtocolKind::PartialEq | ProtocolKind::Eq => "eq",
            ProtocolKind::Hash => "hash",
            ProtocolKind::PartialOrd | ProtocolKind::Ord => "cmp",
            ProtocolKind::Clone => "clone",
            ProtocolKind::Default => "default",
            ProtocolKind::Add => "add",
            ProtocolKind::Sub => "sub",
            ProtocolKind::Mul => "mul",
            ProtocolKind::Div => "div",
            ProtocolKind::Neg => "neg",
            ProtocolKind::Index => "index",
            // Not `len`: a method named `len` is `<prefix>_len` itself.
            ProtocolKind::Len => "pylen",
            ProtocolKind::Bool => "pybool",
        }
    }

    /// A method role (`len`, `bool`), written on a method, not a type.
    pub fn is_method_role(self) -> bool {
        matches!(self, ProtocolKind::Len | ProtocolKind::Bool)
    }
}

/// One exported protocol shim of a type: `<prefix>_<shim>`.
pub struct ProtocolFn {
    /// The protocol (for `PartialEq` + `Eq`, or `PartialOrd` + `Ord`, the
    /// stronger one when both are listed).
    pub protocol: ProtocolKind,
    /// Where the protocol was named: the shim's body is spanned there, so a
    /// type without the trait is one error at that name.
    pub span: proc_macro2::Span,
    /// The shim as a callable (the synthesized signature, its parameters
    /// and return classified like any export's).
    pub export: ExportFn,
    /// `len`/`bool`: the method that gives the value.
    pub method: Option<Ident>,
}

/// `#[export] struct`.
pub struct Record {
    /// The struct as written.
    pub item: syn::ItemStruct,
    /// The attribute's arguments (protocols only).
    pub args: Args,
    /// The protocol shims of the traits it opted in to.
    pub protocols: Vec<ProtocolFn>,
    /// The doc comment.
    pub doc: String,
    /// The named fields; empty when `unnamed` is set.
    pub fields: Vec<Field>,
    /// Tuple or unit fields, which records cannot have.
    pub unnamed: Option<syn::Fields>,
    /// Its `#[repr(..)]` attributes.
    pub repr: Repr,
}

impl Record {
    /// `#[repr(C)]`: plain data that crosses as itself.
    pub fn is_plain_data(&self) -> bool {
        self.repr.c
    }
}

/// One field of a record or enum variant.
pub struct Field {
    /// The field's name (`_0`, `_1`, .. for tuple fields).
    pub ident: Ident,
    /// The name in the self-description (without `r#`).
    pub name: String,
    /// The type as written.
    pub ty: Type,
    /// Its `#[ffi(..)]` attributes (taken off the emitted item).
    pub ffi: FfiAttrs,
}

/// What `#[repr(..)]` attributes say.
#[derive(Default)]
pub struct Repr {
    /// `C`.
    pub c: bool,
    /// The first integer type (`u8`, `i64`, ..).
    pub int: Option<Ident>,
    /// Every other option (`packed`, `align`, `transparent`, integers).
    pub others: Vec<syn::Path>,
    /// What could not be parsed.
    pub malformed: Vec<syn::Error>,
}

/// `#[export] enum`.
pub struct Enum {
    /// The enum as written.
    pub item: syn::ItemEnum,
    /// The attribute's arguments (protocols only).
    pub args: Args,
    /// The protocol shims of the traits it opted in to.
    pub protocols: Vec<ProtocolFn>,
    /// The doc comment.
    pub doc: String,
    /// The variants in order.
    pub variants: Vec<Variant>,
    /// Its `#[repr(..)]` attributes.
    pub repr: Repr,
}

impl Enum {
    /// Whether a variant has fields (a tagged union), or none does (the
    /// enum crosses as its discriminant).
    pub fn has_data(&self) -> bool {
        self.variants
            .iter()
            .any(|variant| !matches!(variant.shape, Shape::Unit))
    }
}

/// One variant of an enum.
pub struct Variant {
    /// Its name.
    pub ident: Ident,
    /// Named, tuple or no fields.
    pub shape: Shape,
    /// Its fields.
    pub fields: Vec<Field>,
}

/// How a variant's fields are written.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `V { a: T }`.
    Named,
    /// `V(T)`.
    Tuple,
    /// `V`.
    Unit,
}

/// `#[export] impl Type { .. }`.
pub struct Object {
    /// The impl block as written.
    pub item: syn::ItemImpl,
    /// The attribute's arguments (`name = ".."` is taken).
    pub args: Args,
    /// The name of a named, non-generic self type; `None` otherwise
    /// (rejected), and then no method is modelled.
    pub type_name: Option<String>,
    /// The C prefix of its exports (`<prefix>_<fn>`, `<prefix>_free`): the
    /// `name = ".."` argument, else the type's name (`None` with
    /// `type_name`).
    pub c_prefix: Option<String>,
    /// Where the prefix came from: the `name = ".."` literal, else the self
    /// type's last token.
    pub c_prefix_span: Span,
    /// Its `pub fn`s, exported as `<prefix>_<fn>`.
    pub methods: Vec<ExportFn>,
    /// The protocol shims of the traits listed on the impl block and of the
    /// methods marked `#[export(len)]` / `#[export(bool)]`.
    pub protocols: Vec<ProtocolFn>,
    /// The `#[export(..)]` attributes found on its methods: (the method,
    /// its arguments), for `validate`.
    pub method_args: Vec<(syn::ImplItemFn, Args)>,
    /// The doc comment of the impl block.
    pub doc: String,
}

impl Object {
    /// The self type.
    pub fn owner(&self) -> &Type {
        &self.item.self_ty
    }

    /// The last segment of the self type's path, if it is one.
    pub fn last_segment(&self) -> Option<&syn::PathSegment> {
        match self.owner() {
            Type::Path(path) if path.qself.is_none() => path.path.segments.last(),
            _ => None,
        }
    }
}

/// `#[export] trait Name { .. }`: implemented by the caller (Python, C),
/// taken by Rust as `Box<dyn Name>` or `Arc<dyn Name>`.
pub struct Trait {
    /// The trait as written.
    pub item: syn::ItemTrait,
    /// The attribute's arguments (none are taken).
    pub args: TokenStream,
    /// The doc comment.
    pub doc: String,
    /// Its methods in order (every `fn`; `validate` checks each).
    pub methods: Vec<TraitMethod>,
    /// `Dyn<Trait>`: the object a Rust implementation returned to the
    /// caller lives in, an impl block of `pub fn`s calling the trait's
    /// methods (its name is `Dyn` and the trait's).
    pub rust_object: Object,
}

/// One method of an exported trait.
pub struct TraitMethod {
    /// The signature as written.
    pub sig: Signature,
    /// The doc comment.
    pub doc: String,
    /// The receiver is `&self`.
    pub by_ref: bool,
    /// Parameters after the receiver: (name, type).
    pub params: Vec<(String, Type)>,
}
