//! Records (structs with string fields), enums, and plain-data structs.
//! The seeds declared each struct twice (C and ctypes) and filled strings
//! into caller-sized buffers; here the struct is declared once, in Rust.

use ffi_export::export;

/// A person; `full_name` is filled in by [`fill`].
#[export]
#[derive(Debug, Clone)]
pub struct Person {
    pub first_name: String,
    pub last_name: String,
    pub full_name: String,
}

/// Fills in `full_name`. (The seed wrote into a caller buffer without a
/// size check; here the record comes back with an owned string.)
#[export]
pub fn fill(mut person: Person) -> Person {
    person.full_name = format!("{} {}", person.first_name, person.last_name);
    person
}

/// What a user may do.
#[export]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Admin = 1,
    Member = 2,
    Guest = 3,
}

/// A user account.
#[export]
#[derive(Debug, Clone)]
pub struct User {
    pub id: u32,
    pub name: String,
    pub email: Option<String>,
    pub role: Role,
    pub tags: Vec<String>,
}

/// Creates a user; `email` is optional. (The seed `malloc`ed the struct and
/// its strings for the caller to free with `free_user`; here the record is
/// copied to Python and deep-freed by the helper.)
#[export]
pub fn create_user(id: u32, name: &str, role: Role, email: Option<String>) -> User {
    User {
        id,
        name: name.to_owned(),
        email,
        role,
        tags: vec![format!("{role:?}").to_lowercase()],
    }
}

/// A small, deterministic pseudo-random generator (xorshift64*), so the
/// examples need no dependency and print the same output every run.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const NAMES: [&str; 6] = ["Ada", "Grace", "Linus", "Barbara", "Dennis", "Margaret"];

fn random_user(rng: &mut Rng, id: u32) -> User {
    let name = NAMES[rng.below(NAMES.len() as u64) as usize];
    let role = [Role::Admin, Role::Member, Role::Guest][rng.below(3) as usize];
    let email = (rng.below(2) == 0).then(|| format!("{}@example.com", name.to_lowercase()));
    create_user(id, name, role, email)
}

/// One random user from `seed`: the same seed gives the same user. (Freed
/// like [`create_user`]'s result, where the seed needed `free_user`.)
#[export]
pub fn create_random_user(seed: u64) -> User {
    random_user(&mut Rng::new(seed), 1)
}

/// `n` random users from `seed`. (The seed returned a C array plus a
/// `free_users` to call by hand; here the list is freed for you.)
#[export]
pub fn create_random_users(n: u32, seed: u64) -> Vec<User> {
    let mut rng = Rng::new(seed);
    (1..=n).map(|id| random_user(&mut rng, id)).collect()
}

/// One line about a user, borrowed from the caller.
#[export]
pub fn describe_user(user: &User) -> String {
    let email = user.email.as_deref().unwrap_or("no email");
    format!("#{} {} ({:?}, {email})", user.id, user.name, user.role)
}

/// A point: `#[repr(C)]` plain data crosses as itself, and slices of it are
/// borrowed without copying.
#[export]
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct Point {
    pub x: f64,
    pub y: f64,
}

/// The mean of `points`.
#[export]
pub fn centroid(points: &[Point]) -> Point {
    let n = points.len().max(1) as f64;
    let (x, y) = points
        .iter()
        .fold((0.0, 0.0), |(x, y), p| (x + p.x, y + p.y));
    Point { x: x / n, y: y / n }
}

/// A shape: an enum with data crosses as a tagged union and becomes a small
/// class hierarchy in Python (`Shape.Circle`, `Shape.Rect`, `Shape.Empty`).
#[export]
#[derive(Debug, Clone)]
pub enum Shape {
    Circle { radius: f64 },
    Rect { width: f64, height: f64 },
    Empty,
}

/// The area of a shape.
#[export]
pub fn area(shape: &Shape) -> f64 {
    match shape {
        Shape::Circle { radius } => std::f64::consts::PI * radius * radius,
        Shape::Rect { width, height } => width * height,
        Shape::Empty => 0.0,
    }
}
