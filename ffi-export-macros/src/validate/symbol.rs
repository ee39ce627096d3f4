//! Exported C symbols: a name must not take one the C library, CPython,
//! the Rust runtime or ffi-export already defines.

use crate::errors::Errors;

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

/// Whether the `name = ".."` of `#[export(..)]` is a C identifier;
/// records the error when it is not.
pub fn c_identifier(name: &syn::LitStr, errors: &mut Errors) -> bool {
    let value = name.value();
    let valid = !value.is_empty()
        && value
            .chars()
            .enumerate()
            .all(|(i, c)| c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit()));
    if !valid {
        errors.error(
            name,
            "the exported name must be a C identifier: ASCII letters, digits and `_`, not starting with a digit",
        );
    }
    valid
}

/// Records an error when `name`, an exported C symbol, would collide with
/// the C library, CPython, the Rust runtime or ffi-export's own symbols;
/// whether it is free of them.
///
/// (Two exports of one symbol in the crate are found by rustc: see
/// `tokens::symbol_guard`.)
pub fn c_symbol(name: &str, span: proc_macro2::Span, errors: &mut Errors) -> bool {
    report(name, name, span, errors)
}

/// [`c_symbol`] for the prefix of an object's symbols (`<prefix>_<fn>`),
/// checked through `<prefix>_free`.
pub fn c_prefix(prefix: &str, span: proc_macro2::Span, errors: &mut Errors) -> bool {
    report(&format!("{prefix}_free"), prefix, span, errors)
}

/// Checks the symbol `name`; the error suggests `name = "mylib_<rename>"`.
fn report(name: &str, rename: &str, span: proc_macro2::Span, errors: &mut Errors) -> bool {
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
                 another name with #[export(name = \"mylib_{rename}\")]"
            ),
        ));
    }
    owner.is_none()
}
