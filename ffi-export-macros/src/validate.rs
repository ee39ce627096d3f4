//! Signature-level rules: everything about a function, apart from its
//! types, that a C export cannot have. Each problem is recorded, none stops
//! the others from being found.

use crate::errors::Errors;
use syn::{FnArg, GenericParam, Signature};

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
