// The CPython fast path's entry points need the GIL and trust their
// arguments: safe code cannot reach them.
use ffi_export::FfiBuffer;
use ffi_export::__private::python::{python, PyReturn};

fn main() {
    let py = python().expect("loaded");
    let wild = FfiBuffer { ptr: 16 as *mut _, len: 4, cap: 4 };
    let _ = <String as PyReturn>::to_py(&py, wild);
}
