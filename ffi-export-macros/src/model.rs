//! The model of one exported function: what `parse` builds and `expand`
//! turns into tokens. Every supported Rust type is classified here once.

use proc_macro2::Span;
use syn::{Ident, Signature, Type};

/// An `#[export]`ed function, or a `pub fn` of an `#[export] impl`.
pub struct ExportFn {
    /// The Rust signature (the item itself is emitted unchanged elsewhere).
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
    /// Parameters in order.
    pub params: Vec<Param>,
    /// `#[export(batch)]`: also export `<name>_batch`, the function looped
    /// over arrays in Rust.
    pub batch: bool,
    /// The return type.
    pub ret: Return,
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
    /// An associated function without `self` that returns no object.
    Static,
}

impl FnKind {
    /// The name used in the self-description.
    pub fn describe(self) -> &'static str {
        match self {
            FnKind::Function => "function",
            FnKind::Constructor => "constructor",
            FnKind::Method { mutable: false } => "method",
            FnKind::Method { mutable: true } => "method_mut",
            FnKind::Static => "static",
        }
    }
}

/// One parameter.
pub struct Param {
    /// The name in the self-description (the Rust binding, or `argN`).
    pub name: String,
    /// How it crosses.
    pub kind: ParamKind,
    /// The parameter's span, for generated code.
    pub span: Span,
}

/// How a parameter crosses: the number and types of its C arguments.
pub enum ParamKind {
    /// A primitive by value, converted through `FfiParam`.
    Scalar(Type),
    /// `&str`: pointer and length.
    Str,
    /// `&CStr`: one NUL-terminated pointer.
    CStr,
    /// `&[&str]`: pointer to string views and count.
    StrList,
    /// `&R` of an `#[export]` struct: a pointer to its C form, copied in.
    Ref(Type),
    /// `&[T]` or `&mut [T]`: pointer and length.
    Slice {
        /// The element type, checked through `FfiElement`.
        elem: Type,
        /// `&mut [T]`.
        mutable: bool,
    },
}

/// The return type.
pub struct Return {
    /// `None` for `()`.
    pub ty: Option<Type>,
    /// Whether it may own memory, so a paired free is exported (the
    /// description names it only when the type's `OWNED` is true).
    pub may_own: bool,
    /// Whether it holds `Self` (objects become handles on the way out).
    pub has_self: bool,
}

/// A generated identifier, hygienic by its prefix.
pub fn hidden_ident(prefix: &str, name: &str) -> Ident {
    Ident::new(&format!("__ffi_export_{prefix}_{name}"), Span::call_site())
}
