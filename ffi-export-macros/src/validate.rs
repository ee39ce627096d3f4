//! Signature-level rules: everything about a function, apart from its
//! types, that a C export cannot have. Each problem is recorded, none stops
//! the others from being found.

use crate::errors::Errors;
use quote::ToTokens;
use syn::punctuated::Punctuated;
use syn::{FnArg, GenericArgument, GenericParam, Lifetime, PathArguments, Signature, Token, Type};

/// Records every signature-level problem of `sig`.
pub fn signature(sig: &Signature, in_impl: bool, errors: &mut Errors) {
    if let Some(token) = &sig.asyncness {
        errors.error(
            token,
            "`async fn` cannot be exported: a C caller cannot poll a future; \
             export a blocking function that runs it (e.g. with your runtime's `block_on`)",
        );
    }
    if let Some(token) = &sig.unsafety {
        errors.error(
            token,
            "`unsafe fn` cannot be exported: the generated shim is the only unsafe boundary; \
             make the function safe and let its parameter types carry the checks",
        );
    }
    if let Some(abi) = &sig.abi {
        errors.error(
            abi,
            "remove the `extern` ABI: #[export] generates the `extern \"C\"` shim itself \
             and keeps this function a plain Rust function",
        );
    }
    for param in &sig.generics.params {
        let message = match param {
            GenericParam::Type(t) => format!(
                "generic type parameter `{}`: a C export must be monomorphic; \
                 export one non-generic wrapper per concrete type",
                t.ident
            ),
            GenericParam::Lifetime(l) => format!(
                "lifetime parameter `{}`: remove it; borrowed parameters only live for \
                 the call and returned values must be owned",
                l.lifetime
            ),
            GenericParam::Const(c) => format!(
                "const generic parameter `{}`: a C export must be monomorphic; \
                 take the value as a parameter or export one wrapper per value",
                c.ident
            ),
        };
        errors.error(param, message);
    }
    if let Some(clause) = &sig.generics.where_clause {
        errors.error(
            clause,
            "`where` clauses cannot be exported: a C export must be monomorphic",
        );
    }
    if let Some(variadic) = &sig.variadic {
        errors.error(
            variadic,
            "variadic functions cannot be exported: take the values as a slice (`&[T]`)",
        );
    }
    for input in sig.inputs.iter().filter(|_| !in_impl) {
        if let FnArg::Receiver(receiver) = input {
            errors.error(
                receiver,
                "`self` receivers cannot be exported from a function: export a free function \
                 that takes the value as a parameter",
            );
        }
    }
}

/// Records an error at every explicit lifetime in a parameter type other
/// than `'_`: an argument is lent to Rust for the call only (the caller
/// frees or reuses its memory right after), so a signature that names a
/// longer lifetime (`&'static str`, `Callback<'static, ..>`) would let the
/// function keep it. Lifetimes declared on the function or impl block are
/// reported once, where they are declared.
pub fn param_lifetimes(ty: &Type, declared: &[&Lifetime], errors: &mut Errors) {
    let mut found = Vec::new();
    explicit_lifetimes(ty, &mut found);
    for lifetime in found {
        if lifetime.ident == "_" || declared.iter().any(|d| d.ident == lifetime.ident) {
            continue;
        }
        errors.error(
            lifetime,
            format!(
                "`{lifetime}` on a parameter: arguments are lent to Rust only for the call \
                 (the caller frees or reuses them right after), so they cannot be kept; \
                 write `{}` and copy what must outlive the call{}",
                without_lifetimes(ty),
                keep_hint(ty),
            ),
        );
    }
}

/// Every explicit lifetime written in `ty`, in order.
fn explicit_lifetimes<'t>(ty: &'t Type, found: &mut Vec<&'t Lifetime>) {
    match ty {
        Type::Reference(reference) => {
            found.extend(reference.lifetime.as_ref());
            explicit_lifetimes(&reference.elem, found);
        }
        Type::Slice(slice) => explicit_lifetimes(&slice.elem, found),
        Type::Array(array) => explicit_lifetimes(&array.elem, found),
        Type::Paren(paren) => explicit_lifetimes(&paren.elem, found),
        Type::Group(group) => explicit_lifetimes(&group.elem, found),
        Type::Ptr(ptr) => explicit_lifetimes(&ptr.elem, found),
        Type::Tuple(tuple) => tuple
            .elems
            .iter()
            .for_each(|elem| explicit_lifetimes(elem, found)),
        Type::Path(path) => {
            for segment in &path.path.segments {
                if let PathArguments::AngleBracketed(args) = &segment.arguments {
                    for arg in &args.args {
                        match arg {
                            GenericArgument::Lifetime(lifetime) => found.push(lifetime),
                            GenericArgument::Type(inner) => explicit_lifetimes(inner, found),
                            _ => {}
                        }
                    }
                }
            }
        }
        _ => {}
    }
}

/// `ty` as written, with every lifetime removed, for messages.
fn without_lifetimes(ty: &Type) -> String {
    let mut ty = ty.clone();
    strip_lifetimes(&mut ty);
    ty.to_token_stream()
        .to_string()
        .replace(" < ", "<")
        .replace("< ", "<")
        .replace(" >", ">")
        .replace("& ", "&")
        .replace(" ,", ",")
}

fn strip_lifetimes(ty: &mut Type) {
    match ty {
        Type::Reference(reference) => {
            reference.lifetime = None;
            strip_lifetimes(&mut reference.elem);
        }
        Type::Slice(slice) => strip_lifetimes(&mut slice.elem),
        Type::Array(array) => strip_lifetimes(&mut array.elem),
        Type::Paren(paren) => strip_lifetimes(&mut paren.elem),
        Type::Group(group) => strip_lifetimes(&mut group.elem),
        Type::Ptr(ptr) => strip_lifetimes(&mut ptr.elem),
        Type::Tuple(tuple) => tuple.elems.iter_mut().for_each(strip_lifetimes),
        Type::Path(path) => {
            for segment in path.path.segments.iter_mut() {
                if let PathArguments::AngleBracketed(args) = &mut segment.arguments {
                    let kept: Punctuated<GenericArgument, Token![,]> = args
                        .args
                        .iter()
                        .filter(|arg| !matches!(arg, GenericArgument::Lifetime(_)))
                        .cloned()
                        .map(|mut arg| {
                            if let GenericArgument::Type(inner) = &mut arg {
                                strip_lifetimes(inner);
                            }
                            arg
                        })
                        .collect();
                    if kept.is_empty() {
                        segment.arguments = PathArguments::None;
                    } else {
                        args.args = kept;
                    }
                }
            }
        }
        _ => {}
    }
}

/// How to keep what a parameter of this type lends, for messages.
fn keep_hint(ty: &Type) -> &'static str {
    let text = ty.to_token_stream().to_string();
    if text.contains("Callback") {
        " (a callback can only be called during the call)"
    } else if text.contains("Allocator") {
        " (what the allocator hands out already belongs to the caller)"
    } else if text.contains("str") || text.contains("CStr") {
        " (`text.to_owned()`)"
    } else if matches!(ty, Type::Reference(r) if matches!(*r.elem, Type::Slice(_))) {
        " (`values.to_vec()`)"
    } else {
        ""
    }
}

/// Records an error at every reference in the type of a record or variant
/// field: records are copied across and must own their data.
pub fn field_type(ty: &Type, errors: &mut Errors) {
    match ty {
        Type::Reference(reference) => {
            let owned = match &*reference.elem {
                Type::Path(p) if p.path.is_ident("str") => "`String`",
                Type::Slice(_) => "`Vec<T>`",
                _ => "an owned value",
            };
            errors.error(
                ty,
                format!(
                    "a field of an #[export] record cannot borrow: records are copied across \
                     and the caller's memory is only lent for one call; use {owned} instead"
                ),
            );
        }
        Type::Paren(paren) => field_type(&paren.elem, errors),
        Type::Group(group) => field_type(&group.elem, errors),
        Type::Path(path) => {
            for segment in &path.path.segments {
                if let PathArguments::AngleBracketed(args) = &segment.arguments {
                    for arg in &args.args {
                        if let GenericArgument::Type(inner) = arg {
                            field_type(inner, errors);
                        }
                    }
                }
            }
        }
        _ => {}
    }
}

/// Whether a struct's `#[repr(..)]` attributes make it plain data
/// (`#[repr(C)]`), recording an error at every other layout option next to
/// `C`: `packed`, `align(N)`, `transparent` or an integer would give the
/// struct a layout the Python helper and C headers do not reproduce
/// (elements of another size in `&[T]`, fields at other offsets).
pub fn plain_data_repr(attrs: &[syn::Attribute], errors: &mut Errors) -> bool {
    let mut c = false;
    let mut others = Vec::new();
    for attr in attrs.iter().filter(|attr| attr.path().is_ident("repr")) {
        let parsed = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("C") {
                c = true;
            } else {
                others.push(meta.path.clone());
                // `align(N)`, `packed(N)`: skip the argument.
                if meta.input.peek(syn::token::Paren) {
                    let content;
                    syn::parenthesized!(content in meta.input);
                    content.parse::<proc_macro2::TokenStream>()?;
                }
            }
            Ok(())
        });
        if let Err(error) = parsed {
            errors.push(error);
        }
    }
    if c {
        for path in others {
            let name = path.to_token_stream().to_string();
            errors.error(
                &path,
                format!(
                    "`#[repr(C)]` plain data crosses bit for bit with C's natural layout, so \
                     `{name}` cannot be combined with it: remove `{name}` (or remove `C` to make \
                     a record converted field by field)"
                ),
            );
        }
    }
    c
}

/// C library and runtime names an export must not take: an exported
/// symbol is global, so `free` in a library would replace the C library's
/// `free` for every program linking it.
const C_LIBRARY_NAMES: &[&str] = &[
    // <ctype.h>
    "isalnum",
    "isalpha",
    "isblank",
    "iscntrl",
    "isdigit",
    "isgraph",
    "islower",
    "isprint",
    "ispunct",
    "isspace",
    "isupper",
    "isxdigit",
    "tolower",
    "toupper",
    // <setjmp.h>, <signal.h>
    "setjmp",
    "longjmp",
    "signal",
    "raise",
    "sigaction",
    "sigprocmask",
    // <stdio.h>
    "remove",
    "rename",
    "tmpfile",
    "tmpnam",
    "fclose",
    "fflush",
    "fopen",
    "freopen",
    "setbuf",
    "setvbuf",
    "fprintf",
    "fscanf",
    "printf",
    "scanf",
    "snprintf",
    "sprintf",
    "sscanf",
    "vfprintf",
    "vfscanf",
    "vprintf",
    "vscanf",
    "vsnprintf",
    "vsprintf",
    "vsscanf",
    "fgetc",
    "fgets",
    "fputc",
    "fputs",
    "getc",
    "getchar",
    "gets",
    "putc",
    "putchar",
    "puts",
    "ungetc",
    "fread",
    "fwrite",
    "fgetpos",
    "fseek",
    "fsetpos",
    "ftell",
    "rewind",
    "clearerr",
    "feof",
    "ferror",
    "perror",
    "fileno",
    "popen",
    "pclose",
    "getline",
    "fdopen",
    // <stdlib.h>
    "atof",
    "atoi",
    "atol",
    "atoll",
    "strtod",
    "strtof",
    "strtold",
    "strtol",
    "strtoll",
    "strtoul",
    "strtoull",
    "rand",
    "srand",
    "aligned_alloc",
    "calloc",
    "free",
    "malloc",
    "realloc",
    "reallocarray",
    "abort",
    "atexit",
    "at_quick_exit",
    "exit",
    "getenv",
    "quick_exit",
    "system",
    "bsearch",
    "qsort",
    "abs",
    "labs",
    "llabs",
    "div",
    "ldiv",
    "lldiv",
    "mblen",
    "mbtowc",
    "wctomb",
    "mbstowcs",
    "wcstombs",
    "posix_memalign",
    "memalign",
    "valloc",
    "setenv",
    "unsetenv",
    "putenv",
    "mkstemp",
    "realpath",
    // <string.h>
    "memcpy",
    "memmove",
    "strcpy",
    "strncpy",
    "strcat",
    "strncat",
    "memcmp",
    "strcmp",
    "strcoll",
    "strncmp",
    "strxfrm",
    "memchr",
    "strchr",
    "strcspn",
    "strpbrk",
    "strrchr",
    "strspn",
    "strstr",
    "strtok",
    "memset",
    "strerror",
    "strlen",
    "strdup",
    "strndup",
    "strnlen",
    "bcmp",
    "bcopy",
    "bzero",
    // <math.h> (the `f` and `l` variants are checked too)
    "acos",
    "asin",
    "atan",
    "atan2",
    "cos",
    "sin",
    "tan",
    "acosh",
    "asinh",
    "atanh",
    "cosh",
    "sinh",
    "tanh",
    "exp",
    "exp2",
    "expm1",
    "frexp",
    "ldexp",
    "log",
    "log10",
    "log1p",
    "log2",
    "logb",
    "modf",
    "scalbn",
    "cbrt",
    "fabs",
    "hypot",
    "pow",
    "sqrt",
    "erf",
    "erfc",
    "lgamma",
    "tgamma",
    "ceil",
    "floor",
    "nearbyint",
    "rint",
    "lrint",
    "llrint",
    "round",
    "lround",
    "llround",
    "trunc",
    "fmod",
    "remainder",
    "remquo",
    "copysign",
    "nan",
    "nextafter",
    "fdim",
    "fmax",
    "fmin",
    "fma",
    "sincos",
    // <time.h>
    "clock",
    "difftime",
    "mktime",
    "time",
    "asctime",
    "ctime",
    "gmtime",
    "localtime",
    "strftime",
    "nanosleep",
    "sleep",
    "usleep",
    "clock_gettime",
    // POSIX
    "open",
    "close",
    "read",
    "write",
    "lseek",
    "pipe",
    "dup",
    "dup2",
    "fork",
    "execv",
    "execve",
    "execvp",
    "getpid",
    "getppid",
    "kill",
    "wait",
    "waitpid",
    "unlink",
    "access",
    "chdir",
    "getcwd",
    "mmap",
    "munmap",
    "mprotect",
    "stat",
    "fstat",
    "lstat",
    "ioctl",
    "fcntl",
    "select",
    "poll",
    "socket",
    "bind",
    "listen",
    "accept",
    "connect",
    "send",
    "recv",
    "sendto",
    "recvfrom",
    "shutdown",
    "getaddrinfo",
    "freeaddrinfo",
    "dlopen",
    "dlsym",
    "dlclose",
    "dlerror",
    "syscall",
    "errno",
    // Program entry points
    "main",
    "_start",
    "_init",
    "_fini",
];

/// Records an error when `name`, an exported C symbol, would collide with
/// the C library, CPython, the Rust runtime or ffi-export's own symbols.
pub fn c_symbol(name: &str, span: proc_macro2::Span, errors: &mut Errors) {
    let base = name
        .strip_suffix('f')
        .or_else(|| name.strip_suffix('l'))
        .filter(|base| C_LIBRARY_NAMES.contains(base));
    let owner = if C_LIBRARY_NAMES.contains(&name) || base.is_some() {
        Some("the C library")
    } else if name.starts_with("ffi_export_") || name.starts_with("FFI_EXPORT_") {
        Some("ffi-export's runtime")
    } else if name.starts_with("pthread_") {
        Some("the C library's threads")
    } else if name.starts_with("_Py")
        || (name.starts_with("Py")
            && name[2..]
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_uppercase() || c == '_'))
    {
        Some("CPython's C API")
    } else if name.starts_with("__") || name.starts_with("rust_") {
        Some("the C and Rust implementations (reserved names)")
    } else {
        None
    };
    if let Some(owner) = owner {
        errors.push(syn::Error::new(
            span,
            format!(
                "the C symbol `{name}` belongs to {owner}: exported symbols are global, so this \
                 one would replace it for every program that loads the library; export it under \
                 another name with #[export(name = \"mylib_{name}\")]"
            ),
        ));
    }
}
