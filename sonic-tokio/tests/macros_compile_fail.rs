//! tokio's options a single-thread runtime cannot honour are compile errors that name the
//! alternative (trybuild cases in `tests/ui/`).

#[test]
fn multi_thread_options_are_compile_errors_naming_current_thread() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
