//! Types and lists written out for messages.

use quote::ToTokens;

/// `ty` as a user would write it.
pub fn describe(ty: &impl ToTokens) -> String {
    ty.to_token_stream()
        .to_string()
        .replace(" < ", "<")
        .replace(" >", ">")
        .replace("& ", "&")
}

/// `a, b or c`.
pub fn list(names: &[&str]) -> String {
    match names.split_last() {
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}
