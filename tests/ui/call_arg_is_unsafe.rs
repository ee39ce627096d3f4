// The helper reads a callback argument by its description: a safe impl of
// `CallArg` (or `FfiValue`, `ForeignValue`, `ForeignReturn`) could lie.
use ffi_export::__private::{CallArg, FfiBuffer, TypeDesc};

pub struct Lie;

impl CallArg for Lie {
    type Repr = FfiBuffer;
    const DESC: TypeDesc = TypeDesc::String;
    fn to_repr(self) -> FfiBuffer {
        FfiBuffer { ptr: 1 as *mut _, len: 100, cap: 0 }
    }
    unsafe fn free(_: &mut FfiBuffer) {}
}

fn main() {}
