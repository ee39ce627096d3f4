//! Every signature `#[export]` rejects, with its expected diagnostics.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("ui/*.rs");
}
