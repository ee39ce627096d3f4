//! The Rust half of the `greeter` wheel (examples/packaging/README.md).

use ffi_export::export;

/// Greets `name`.
#[export]
pub fn greet(name: &str) -> String {
    format!("Hello, {name}!")
}

/// Why a name was refused.
#[derive(Debug)]
pub struct EmptyName;

impl std::fmt::Display for EmptyName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the name is empty")
    }
}

/// One visit in the guest book.
#[export]
#[derive(Debug, Clone)]
pub struct Visit {
    /// Who came.
    pub name: String,
    /// How many times they came.
    pub times: u32,
}

/// A guest book, living in Rust.
pub struct Guestbook {
    visits: Vec<Visit>,
}

#[export]
impl Guestbook {
    /// An empty guest book.
    pub fn new() -> Guestbook {
        Guestbook { visits: Vec::new() }
    }

    /// Records a visit of `name`; an empty name is an error.
    pub fn sign(&mut self, name: &str) -> Result<Visit, EmptyName> {
        if name.is_empty() {
            return Err(EmptyName);
        }
        let visit = match self.visits.iter_mut().find(|v| v.name == name) {
            Some(visit) => {
                visit.times += 1;
                visit.clone()
            }
            None => {
                let visit = Visit {
                    name: name.to_owned(),
                    times: 1,
                };
                self.visits.push(visit.clone());
                visit
            }
        };
        Ok(visit)
    }

    /// Every visit so far.
    pub fn visits(&self) -> Vec<Visit> {
        self.visits.clone()
    }
}
