use ffi_export::export;

#[derive(PartialEq)]
pub struct Point(i32);

#[export(PartialEq)]
impl Point {
    pub fn new(x: i32) -> Point {
        Point(x)
    }

    /// Its C symbol would be `Point_eq`, the shim's.
    pub fn eq(&self, other: &Point) -> bool {
        self.0 == other.0
    }
}

fn main() {}
