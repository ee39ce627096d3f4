// The helper reads a result by its description: a safe impl could lie.
use ffi_export::__private::{Fault, FfiBuffer, IntoFfi, TypeDesc};

pub struct Lie;

impl IntoFfi for Lie {
    type Abi = FfiBuffer;
    const DESC: TypeDesc = TypeDesc::String;
    const OWNED: bool = true;
    fn lower(self) -> Result<FfiBuffer, Fault> {
        Ok(FfiBuffer { ptr: 16 as *mut _, len: 4, cap: 4 })
    }
}

fn main() {}
