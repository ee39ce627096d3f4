//! A cdylib exporting every parameter and return type `#[export]` supports,
//! so the Python tests cross the boundary for real with each of them.

use ffi_export::export;
use std::ffi::CStr;
use std::fmt;

macro_rules! numeric {
    ($($t:ident: $echo:ident $sum:ident $fill:ident $vec:ident $opt:ident;)*) => {$(
        /// Returns its argument unchanged.
        #[export]
        pub fn $echo(value: $t) -> $t {
            value
        }

        /// Sums a slice (wrapping for integers).
        #[export]
        pub fn $sum(values: &[$t]) -> $t {
            values.iter().fold(0 as $t, |acc, &v| numeric!(@add $t, acc, v))
        }

        /// Sets every element of `values` to `value`; returns how many.
        #[export]
        pub fn $fill(values: &mut [$t], value: $t) -> usize {
            values.fill(value);
            values.len()
        }

        /// Returns `0, 1, …, n - 1`.
        #[export]
        pub fn $vec(n: usize) -> Vec<$t> {
            (0..n).map(|i| i as $t).collect()
        }

        /// `Some(value)` when `some`, else `None`.
        #[export]
        pub fn $opt(value: $t, some: bool) -> Option<$t> {
            some.then_some(value)
        }
    )*};
    (@add f32, $a:expr, $b:expr) => { $a + $b };
    (@add f64, $a:expr, $b:expr) => { $a + $b };
    (@add $t:ident, $a:expr, $b:expr) => { $a.wrapping_add($b) };
}

numeric! {
    i8: echo_i8 sum_i8 fill_i8 vec_i8 opt_i8;
    i16: echo_i16 sum_i16 fill_i16 vec_i16 opt_i16;
    i32: echo_i32 sum_i32 fill_i32 vec_i32 opt_i32;
    i64: echo_i64 sum_i64 fill_i64 vec_i64 opt_i64;
    u8: echo_u8 sum_u8 fill_u8 vec_u8 opt_u8;
    u16: echo_u16 sum_u16 fill_u16 vec_u16 opt_u16;
    u32: echo_u32 sum_u32 fill_u32 vec_u32 opt_u32;
    u64: echo_u64 sum_u64 fill_u64 vec_u64 opt_u64;
    isize: echo_isize sum_isize fill_isize vec_isize opt_isize;
    usize: echo_usize sum_usize fill_usize vec_usize opt_usize;
    f32: echo_f32 sum_f32 fill_f32 vec_f32 opt_f32;
    f64: echo_f64 sum_f64 fill_f64 vec_f64 opt_f64;
}

/// Returns its argument unchanged.
#[export]
pub fn echo_bool(value: bool) -> bool {
    value
}

/// Counts the `true`s.
#[export]
pub fn count_true(values: &[bool]) -> usize {
    values.iter().filter(|&&v| v).count()
}

/// Negates every element in place.
#[export]
pub fn negate_all(values: &mut [bool]) {
    values.iter_mut().for_each(|v| *v = !*v);
}

/// Alternating `true, false, …` of length `n`.
#[export]
pub fn vec_bool(n: usize) -> Vec<bool> {
    (0..n).map(|i| i % 2 == 0).collect()
}

/// `Some(value)` when `some`.
#[export]
pub fn opt_bool(value: bool, some: bool) -> Option<bool> {
    some.then_some(value)
}

/// The number of Unicode scalar values of `text`.
#[export]
pub fn char_count(text: &str) -> usize {
    text.chars().count()
}

/// `text` with its characters reversed.
#[export]
pub fn reverse(text: &str) -> String {
    text.chars().rev().collect()
}

/// The bytes of a C string, as lossy UTF-8, upper-cased.
#[export]
pub fn shout(text: &CStr) -> String {
    text.to_string_lossy().to_uppercase()
}

/// The length of a C string in bytes.
#[export]
pub fn cstr_len(text: &CStr) -> usize {
    text.to_bytes().len()
}

/// `Some(text)` when non-empty.
#[export]
pub fn non_empty(text: &str) -> Option<String> {
    (!text.is_empty()).then(|| text.to_owned())
}

/// Every index `i` with `values[i] > limit`, or `None` when there are none.
#[export]
pub fn above(values: &[f64], limit: f64) -> Option<Vec<u32>> {
    let found: Vec<u32> = (0..values.len() as u32)
        .filter(|&i| values[i as usize] > limit)
        .collect();
    (!found.is_empty()).then_some(found)
}

/// Parses an integer; the error is `ParseIntError`.
#[export]
pub fn parse_int(text: &str) -> Result<i64, std::num::ParseIntError> {
    text.trim().parse()
}

/// Splits on commas; the error is a plain `String`.
#[export]
pub fn split_numbers(text: &str) -> Result<Vec<i32>, String> {
    text.split(',')
        .map(|part| {
            part.trim()
                .parse::<i32>()
                .map_err(|e| format!("{part:?}: {e}"))
        })
        .collect()
}

/// Greets; errors with a boxed error on empty names.
#[export]
pub fn greet(name: &str) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
    if name.is_empty() {
        return Err("empty name".into());
    }
    Ok(format!("Hello, {name}!"))
}

/// `Ok(Some(..))`, `Ok(None)` or an error, by `mode`.
#[export]
pub fn maybe(mode: u8) -> Result<Option<String>, Custom> {
    match mode {
        0 => Ok(None),
        1 => Ok(Some("some".to_owned())),
        _ => Err(Custom { code: mode }),
    }
}

/// Succeeds with nothing, or fails.
#[export]
pub fn check_positive(value: i32) -> Result<(), Custom> {
    if value > 0 {
        Ok(())
    } else {
        Err(Custom { code: 0 })
    }
}

/// An error type with a custom `Display`.
#[derive(Debug)]
pub struct Custom {
    code: u8,
}

impl fmt::Display for Custom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "custom failure #{}", self.code)
    }
}

/// An error type whose `Display` panics.
#[derive(Debug)]
pub struct BadDisplay;

impl fmt::Display for BadDisplay {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        panic!("Display panicked")
    }
}

/// Fails with an error whose `Display` panics.
#[export]
pub fn bad_display() -> Result<i32, BadDisplay> {
    Err(BadDisplay)
}

/// Panics with `message` before returning anything.
#[export]
pub fn panic_now(message: &str) -> i32 {
    panic!("{message}")
}

/// Allocates the result, then panics: the allocation must not leak.
#[export]
pub fn panic_after_alloc(n: usize) -> Vec<u64> {
    let values: Vec<u64> = (0..n as u64).collect();
    if n > 0 {
        panic!("panicked holding {} values", values.len());
    }
    values
}

/// Panics with a payload that is not a string.
#[export]
pub fn panic_any() -> String {
    std::panic::panic_any(42_u32)
}

/// Writes `a[i] + b[i]` into `out[i]`.
#[export]
pub fn add_into(a: &[i32], b: &[i32], out: &mut [i32]) -> Result<(), String> {
    if a.len() != out.len() || b.len() != out.len() {
        return Err("length mismatch".to_owned());
    }
    for ((o, x), y) in out.iter_mut().zip(a).zip(b) {
        *o = x.wrapping_add(*y);
    }
    Ok(())
}

/// A parameter named like a Python keyword.
#[export]
pub fn keyword_params(lambda: i32, from: i32) -> i32 {
    lambda - from
}

/// Exported under another C name.
#[export(name = "renamed_export")]
pub fn original_name() -> u8 {
    7
}

/// The doc comment's first line.
///
/// A second paragraph, with "quotes" and a \ backslash.
#[export]
pub fn documented() {}

/// Returns a `String` of `n` bytes, for leak checks.
#[export]
pub fn make_string(n: usize) -> String {
    "x".repeat(n)
}

pub mod nested {
    //! Exports in a submodule are described too.

    use ffi_export::export;

    /// Lives in a nested module.
    #[export]
    pub fn nested_answer() -> u32 {
        42
    }
}

pub mod rich {
    //! Records, enums, plain-data structs and string lists.

    use ffi_export::export;

    /// Where someone lives.
    #[export]
    #[derive(Debug, Clone, PartialEq)]
    pub struct Address {
        /// The city.
        pub city: String,
        /// Postal code, when known.
        pub zip: Option<u32>,
    }

    /// What someone may do.
    #[export]
    #[derive(Debug, Clone, Copy, PartialEq)]
    #[repr(u8)]
    pub enum Kind {
        /// Everything.
        Admin = 1,
        /// Some things.
        User = 2,
        /// Little.
        Guest = 7,
    }

    /// A person, with every kind of field.
    #[export]
    #[derive(Debug, Clone, PartialEq)]
    pub struct Person {
        pub name: String,
        pub age: u32,
        pub email: Option<String>,
        pub tags: Vec<String>,
        pub scores: Vec<f64>,
        pub address: Address,
        pub kind: Kind,
        pub active: bool,
    }

    /// A point in the plane: plain data, crosses as itself.
    #[export]
    #[repr(C)]
    #[derive(Debug, Clone, Copy, PartialEq)]
    pub struct Point {
        pub x: f64,
        pub y: f64,
    }

    /// A tree of labels (a recursive record).
    #[export]
    #[derive(Debug, Clone, PartialEq)]
    pub struct Tree {
        pub label: String,
        pub children: Vec<Tree>,
    }

    /// Builds a person.
    #[export]
    pub fn make_person(name: &str, age: u32) -> Person {
        Person {
            name: name.to_owned(),
            age,
            email: (age >= 18).then(|| format!("{}@example.com", name.to_lowercase())),
            tags: vec!["new".to_owned(), format!("age{age}")],
            scores: vec![1.5, 2.5],
            address: Address {
                city: "Paris".to_owned(),
                zip: age.is_multiple_of(2).then_some(75001),
            },
            kind: if age >= 18 { Kind::User } else { Kind::Guest },
            active: true,
        }
    }

    /// One line about a person (borrowed).
    #[export]
    pub fn describe_person(person: &Person) -> String {
        format!(
            "{} ({}, {:?}) in {} [{}] {:?} {:?} {}",
            person.name,
            person.age,
            person.kind,
            person.address.city,
            person.tags.join(","),
            person.email,
            person.scores,
            person.active
        )
    }

    /// The same person, a year older (by value in, by value out).
    #[export]
    pub fn birthday(mut person: Person) -> Person {
        person.age += 1;
        person.tags.push("birthday".to_owned());
        person
    }

    /// `n` people.
    #[export]
    pub fn people(n: u32) -> Vec<Person> {
        (0..n)
            .map(|i| make_person(&format!("P{i}"), 10 + i))
            .collect()
    }

    /// A person, or nobody.
    #[export]
    pub fn maybe_person(some: bool) -> Option<Person> {
        some.then(|| make_person("Maybe", 30))
    }

    /// Parses `name:age`.
    #[export]
    pub fn parse_person(text: &str) -> Result<Person, String> {
        let (name, age) = text.split_once(':').ok_or("expected name:age")?;
        let age = age.parse().map_err(|e| format!("bad age: {e}"))?;
        Ok(make_person(name, age))
    }

    /// Joins words with a separator.
    #[export]
    pub fn join(words: &[&str], separator: &str) -> String {
        words.join(separator)
    }

    /// Splits on whitespace.
    #[export]
    pub fn split_words(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_owned).collect()
    }

    /// The next kind, cycling.
    #[export]
    pub fn next_kind(kind: Kind) -> Kind {
        match kind {
            Kind::Admin => Kind::User,
            Kind::User => Kind::Guest,
            Kind::Guest => Kind::Admin,
        }
    }

    /// Every kind.
    #[export]
    pub fn kinds() -> Vec<Kind> {
        vec![Kind::Admin, Kind::User, Kind::Guest]
    }

    /// The mean of the points (zero-copy slice of plain-data records).
    #[export]
    pub fn centroid(points: &[Point]) -> Point {
        let n = points.len().max(1) as f64;
        let (sx, sy) = points
            .iter()
            .fold((0.0, 0.0), |(x, y), p| (x + p.x, y + p.y));
        Point {
            x: sx / n,
            y: sy / n,
        }
    }

    /// Scales every point in place.
    #[export]
    pub fn scale(points: &mut [Point], factor: f64) {
        for p in points {
            p.x *= factor;
            p.y *= factor;
        }
    }

    /// The midpoint of two points.
    #[export]
    pub fn midpoint(a: Point, b: &Point) -> Point {
        Point {
            x: (a.x + b.x) / 2.0,
            y: (a.y + b.y) / 2.0,
        }
    }

    /// Greets, with optional parameters.
    #[export]
    pub fn greet_opt(name: Option<String>, times: Option<u32>) -> String {
        let name = name.unwrap_or_else(|| "stranger".to_owned());
        vec![format!("hi {name}"); times.unwrap_or(1) as usize].join(" ")
    }

    /// A full tree of the given depth and fan-out 2.
    #[export]
    pub fn tree(depth: u32) -> Tree {
        Tree {
            label: format!("d{depth}"),
            children: if depth == 0 {
                Vec::new()
            } else {
                vec![tree(depth - 1), tree(depth - 1)]
            },
        }
    }

    /// Counts the nodes of a tree passed in.
    #[export]
    pub fn count_nodes(tree: &Tree) -> u32 {
        1 + tree.children.iter().map(count_nodes).sum::<u32>()
    }
}

pub mod objects {
    //! An object type: constructors, methods, a static function, and a
    //! live-instance counter that proves Python frees what it drops.

    use ffi_export::{export, Callback};
    use std::sync::atomic::{AtomicUsize, Ordering};

    static LIVE: AtomicUsize = AtomicUsize::new(0);

    /// A named counter.
    pub struct Counter {
        count: u64,
        label: String,
    }

    impl Drop for Counter {
        fn drop(&mut self) {
            LIVE.fetch_sub(1, Ordering::SeqCst);
        }
    }

    /// A named counter, safe to share between threads.
    #[export]
    impl Counter {
        /// A counter starting at `start`.
        pub fn new(start: u64, label: &str) -> Counter {
            LIVE.fetch_add(1, Ordering::SeqCst);
            Counter {
                count: start,
                label: label.to_owned(),
            }
        }

        /// Parses `label=start`.
        pub fn parse(text: &str) -> Result<Self, String> {
            let (label, start) = text.split_once('=').ok_or("expected label=start")?;
            let start = start.parse().map_err(|e| format!("bad start: {e}"))?;
            Ok(Counter::new(start, label))
        }

        /// Adds `by` and returns the new count; overflow is an error.
        pub fn add(&mut self, by: u64) -> Result<u64, String> {
            self.count = self.count.checked_add(by).ok_or("counter overflow")?;
            Ok(self.count)
        }

        /// The current count.
        pub fn get(&self) -> u64 {
            self.count
        }

        /// The label.
        pub fn label(&self) -> String {
            self.label.clone()
        }

        /// A new counter with the same state.
        pub fn fork(&self) -> Self {
            Counter::new(self.count, &format!("{} (fork)", self.label))
        }

        /// Panics.
        pub fn explode(&self) -> u64 {
            panic!("counter {} exploded", self.label)
        }

        /// How many counters are alive right now.
        pub fn live() -> usize {
            LIVE.load(Ordering::SeqCst)
        }

        /// Adds `by` and returns the new count; panics when `by` is 0, after
        /// having reset the count (a half-done change: the object is then
        /// unusable).
        pub fn add_or_panic(&mut self, by: u64) -> u64 {
            let old = self.count;
            self.count = 0;
            if by == 0 {
                panic!("add_or_panic: by is 0 (count reset from {old})");
            }
            self.count = old + by;
            self.count
        }

        /// Calls `f` with the current count, then increments the count.
        pub fn visit(&mut self, f: Callback<fn(u64)>) {
            f.call(self.count);
            self.count += 1;
        }
    }

    /// A level, only here to have a second object type: its handles must
    /// not be accepted where a `Counter` is expected.
    pub struct Gauge {
        level: i64,
    }

    /// A level.
    #[export]
    impl Gauge {
        /// A gauge at `level`.
        pub fn new(level: i64) -> Gauge {
            Gauge { level }
        }

        /// The level.
        pub fn level(&self) -> i64 {
            self.level
        }
    }
}

pub mod calls {
    //! Callbacks into the caller and the caller's allocator.

    use ffi_export::{export, Allocator, Callback};

    /// Applies `f` to each value, in place.
    #[export]
    pub fn apply(values: &mut [f64], f: Callback<fn(f64) -> f64>) {
        for v in values {
            *v = f.call(*v);
        }
    }

    /// Counts the values for which `keep` says true.
    #[export]
    pub fn count_where(values: &[i64], keep: Callback<fn(i64) -> bool>) -> usize {
        values.iter().filter(|&&v| keep.call(v)).count()
    }

    /// Calls `visit(i, i * i)` for i in 0..n; holds a String across the
    /// callbacks, which must be dropped if a callback fails.
    #[export]
    pub fn each_square(n: u32, visit: Callback<fn(u32, u64)>) -> String {
        let mut log = String::from("visited");
        for i in 0..n {
            visit.call(i, u64::from(i) * u64::from(i));
            log.push_str(&format!(" {i}"));
        }
        log
    }

    /// Calls a callback with no arguments `times` times; returns the sum.
    #[export]
    pub fn sum_of(times: u32, next: Callback<fn() -> i32>) -> i64 {
        (0..times).map(|_| i64::from(next.call())).sum()
    }

    /// Square roots of 1..=n, written into arrays the caller owns (the
    /// seeds' `sqrts`): a text header, then the values.
    #[export]
    pub fn sqrts(n: u32, alloc: Allocator) {
        alloc.text(&format!("Square roots up to {n}:"));
        let out = alloc.array::<f64>(n as usize);
        for (i, v) in out.iter_mut().enumerate() {
            *v = ((i + 1) as f64).sqrt();
        }
    }

    /// Splits integers into evens and odds (two outputs) and returns how many
    /// there were.
    #[export]
    pub fn partition(values: &[i32], alloc: Allocator) -> usize {
        let evens: Vec<i32> = values.iter().copied().filter(|v| v % 2 == 0).collect();
        let odds: Vec<i32> = values.iter().copied().filter(|v| v % 2 != 0).collect();
        alloc.array::<i32>(evens.len()).copy_from_slice(&evens);
        alloc.array::<i32>(odds.len()).copy_from_slice(&odds);
        values.len()
    }

    /// Counts each byte value of `bytes` into 256 counters, in an output the
    /// caller owns; relies on the allocator's promise that outputs start
    /// zeroed.
    #[export]
    pub fn histogram(bytes: &[u8], alloc: Allocator) {
        let counts = alloc.array::<u32>(256);
        for &b in bytes {
            counts[usize::from(b)] += 1;
        }
    }
}

pub mod shapes {
    //! An enum with data: a tagged union in C, a class hierarchy in Python.

    use ffi_export::export;

    /// A shape.
    #[export]
    #[derive(Debug, Clone, PartialEq)]
    pub enum Shape {
        /// A circle.
        Circle { radius: f64 },
        /// A rectangle.
        Rect { width: f64, height: f64 },
        /// A labelled polygon.
        Polygon(String, Vec<f64>),
        /// Nothing.
        Empty,
    }

    /// The area.
    #[export]
    pub fn area(shape: &Shape) -> f64 {
        match shape {
            Shape::Circle { radius } => std::f64::consts::PI * radius * radius,
            Shape::Rect { width, height } => width * height,
            Shape::Polygon(_, sides) => sides.iter().sum(),
            Shape::Empty => 0.0,
        }
    }

    /// One of each shape.
    #[export]
    pub fn all_shapes() -> Vec<Shape> {
        vec![
            Shape::Circle { radius: 1.0 },
            Shape::Rect {
                width: 2.0,
                height: 3.0,
            },
            Shape::Polygon("tri".to_owned(), vec![1.0, 2.0, 3.0]),
            Shape::Empty,
        ]
    }

    /// Doubles a shape's size.
    #[export]
    pub fn grow(shape: Shape) -> Shape {
        match shape {
            Shape::Circle { radius } => Shape::Circle {
                radius: radius * 2.0,
            },
            Shape::Rect { width, height } => Shape::Rect {
                width: width * 2.0,
                height: height * 2.0,
            },
            Shape::Polygon(label, sides) => {
                Shape::Polygon(label + "+", sides.iter().map(|s| s * 2.0).collect())
            }
            Shape::Empty => Shape::Empty,
        }
    }
}

pub mod object_returns {
    //! Objects returned from free functions, in containers.

    use super::objects::Counter;
    use ffi_export::export;

    /// `n` counters starting at 0, 1, ...
    #[export]
    pub fn counters(n: u32) -> Vec<Counter> {
        (0..n)
            .map(|i| Counter::new(u64::from(i), &format!("c{i}")))
            .collect()
    }

    /// A counter, or none.
    #[export]
    pub fn maybe_counter(some: bool) -> Option<Counter> {
        some.then(|| Counter::new(1, "maybe"))
    }
}

pub mod batched {
    //! `#[export(batch)]`: the same function over whole arrays in one call.

    use ffi_export::export;

    /// `a + b`, refusing overflow.
    #[export(batch)]
    pub fn checked_add(a: i32, b: i32) -> Result<i32, String> {
        a.checked_add(b)
            .ok_or_else(|| format!("{a} + {b} overflows"))
    }

    /// `x * factor`.
    #[export(batch)]
    pub fn scale_by(x: f64, factor: f64) -> f64 {
        x * factor
    }

    /// Whether `n` is even; panics on 13.
    #[export(batch)]
    pub fn is_even(n: i64) -> bool {
        assert!(n != 13, "unlucky {n}");
        n % 2 == 0
    }
}

pub mod safety {
    //! Panics in every position: before and after allocating each kind of
    //! owned return, while holding borrowed arguments, after a callback ran,
    //! after the caller's allocator handed out outputs, and in objects'
    //! constructors and methods. Nothing may leak and the caller gets
    //! `RustPanic` (code 2) every time.

    use super::rich::{make_person, Person};
    use ffi_export::{export, Allocator, Callback};

    /// Builds a `String` of `n` bytes, then panics when `panic`.
    #[export]
    pub fn string_then_panic(n: usize, panic: bool) -> String {
        let text = "s".repeat(n);
        assert!(!panic, "panicked holding a {}-byte String", text.len());
        text
    }

    /// Builds `n` strings, then panics when `panic`.
    #[export]
    pub fn strings_then_panic(n: usize, panic: bool) -> Vec<String> {
        let items: Vec<String> = (0..n).map(|i| format!("item {i}")).collect();
        assert!(!panic, "panicked holding {} Strings", items.len());
        items
    }

    /// Builds a record, then panics when `panic`.
    #[export]
    pub fn record_then_panic(panic: bool) -> Person {
        let person = make_person("Held", 40);
        assert!(!panic, "panicked holding {}", person.name);
        person
    }

    /// Builds an `Option<Vec<f64>>`, then panics when `panic`.
    #[export]
    pub fn option_then_panic(n: usize, panic: bool) -> Option<Vec<f64>> {
        let values: Vec<f64> = (0..n).map(|i| i as f64).collect();
        assert!(!panic, "panicked holding {} f64", values.len());
        Some(values)
    }

    /// Builds a `Result` payload, then panics when `panic`; errors when
    /// `n == 0`.
    #[export]
    pub fn result_then_panic(n: usize, panic: bool) -> Result<Vec<String>, String> {
        if n == 0 {
            return Err("n is 0".to_owned());
        }
        let items = vec!["x".repeat(100); n];
        assert!(!panic, "panicked holding {} results", items.len());
        Ok(items)
    }

    /// Panics while borrowing a string and a slice (fast-path eligible).
    #[export]
    pub fn panic_with_borrows(text: &str, values: &[f64]) -> usize {
        panic!(
            "panicked borrowing {} bytes and {} values",
            text.len(),
            values.len()
        )
    }

    /// Writes `value` into the first half of `values`, then panics: what was
    /// written stays written (the caller's buffer is its own).
    #[export]
    pub fn write_then_panic(values: &mut [f64], value: f64) {
        let half = values.len() / 2;
        values[..half].fill(value);
        panic!("panicked after writing {half} values")
    }

    /// Calls `f(1)`, then panics with its result.
    #[export]
    pub fn callback_then_panic(f: Callback<fn(i32) -> i32>) -> i64 {
        let got = f.call(1);
        panic!("panicked after the callback returned {got}")
    }

    /// Takes two outputs from the caller's allocator, then panics when
    /// `panic`: the outputs are dropped by the caller, not returned.
    #[export]
    pub fn alloc_then_panic(n: u32, panic: bool, alloc: Allocator) {
        alloc.text("header");
        alloc.array::<u64>(n as usize).fill(7);
        assert!(!panic, "panicked after allocating {n} outputs");
    }

    /// An object whose constructor and methods can panic.
    pub struct Fragile {
        label: String,
    }

    /// An object whose constructor and methods can panic.
    #[export]
    impl Fragile {
        /// Panics when `panic`, after building the value.
        pub fn new(label: &str, panic: bool) -> Fragile {
            let value = Fragile {
                label: label.to_owned(),
            };
            assert!(!panic, "constructor panicked holding {:?}", value.label);
            value
        }

        /// Errors on an empty label.
        pub fn checked(label: &str) -> Result<Fragile, String> {
            if label.is_empty() {
                return Err("empty label".to_owned());
            }
            Ok(Fragile::new(label, false))
        }

        /// Builds the label twice over, then panics when `panic`.
        pub fn doubled(&self, panic: bool) -> String {
            let text = self.label.repeat(2);
            assert!(!panic, "method panicked holding {text:?}");
            text
        }
    }
}

/// Exports for the soundness tests: calls that block (for shutdown with
/// daemon threads inside a call) and `Drop` guards that call back into the
/// caller while the function is already unwinding.
pub mod soundness {
    use ffi_export::{export, Allocator, Callback};

    /// Sleeps `ms` milliseconds (the GIL is released meanwhile) and returns
    /// `ms`.
    #[export]
    pub fn sleep_ms(ms: u32) -> u32 {
        std::thread::sleep(std::time::Duration::from_millis(u64::from(ms)));
        ms
    }

    /// Calls `f` once per value and returns the sum of the results; a
    /// `Drop` guard reports "done" by calling `f(-1.0)` on every exit,
    /// including the unwinding after `f` raised.
    #[export]
    pub fn sum_then_report(values: &[f64], f: Callback<fn(f64) -> f64>) -> f64 {
        struct Done<'f, 'c>(&'f Callback<'c, fn(f64) -> f64>);
        impl Drop for Done<'_, '_> {
            fn drop(&mut self) {
                self.0.call(-1.0);
            }
        }
        let _done = Done(&f);
        values.iter().map(|&v| f.call(v)).sum()
    }

    /// Panics (when `panic`) with a `Drop` guard that calls `f(7)` while
    /// unwinding; returns `f(1)` otherwise.
    #[export]
    pub fn panic_then_callback(panic: bool, f: Callback<fn(i32) -> i32>) -> i32 {
        struct Guard<'f, 'c>(&'f Callback<'c, fn(i32) -> i32>);
        impl Drop for Guard<'_, '_> {
            fn drop(&mut self) {
                self.0.call(7);
            }
        }
        let _guard = Guard(&f);
        assert!(!panic, "panicked before the guard called back");
        f.call(1)
    }

    /// Panics (when `panic`) with a `Drop` guard that takes an output of 3
    /// `f64`s from the caller's allocator while unwinding and writes it.
    #[export]
    pub fn panic_then_allocate(panic: bool, alloc: Allocator) {
        struct Guard<'a, 'c>(&'a Allocator<'c>);
        impl Drop for Guard<'_, '_> {
            fn drop(&mut self) {
                self.0.array::<f64>(3).fill(1.5);
                self.0.text("guard");
            }
        }
        let _guard = Guard(&alloc);
        assert!(!panic, "panicked before the guard allocated");
    }
}

/// Exports the unsafe-code review asked tests for: Python code running
/// during a call (callbacks, allocator functions) next to lent buffers,
/// `&[&str]`/`&CStr` next to `&mut [T]`, callbacks of every arity.
pub mod review {
    use ffi_export::{export, Allocator, Callback};
    use std::ffi::CStr;

    /// Reads `values[0]`, calls `f`, reads it again: the difference (Rust
    /// must see a consistent slice while the callback runs).
    #[export]
    pub fn observe(values: &[u64], f: Callback<fn()>) -> u64 {
        let before = values[0];
        f.call();
        values[0].wrapping_sub(before)
    }

    /// Adds 1 to `values[0]` before and after calling `f`; returns the
    /// value Rust ends with.
    #[export]
    pub fn bump_around(values: &mut [u64], f: Callback<fn()>) -> u64 {
        values[0] += 1;
        f.call();
        values[0] += 1;
        values[0]
    }

    /// Counts `true` flags after calling `f`.
    #[export]
    pub fn count_after(flags: &[bool], f: Callback<fn()>) -> usize {
        f.call();
        flags.iter().filter(|&&flag| flag).count()
    }

    /// Takes an output, writes 7 into it, takes a second output, and
    /// returns what the first one holds then.
    #[export]
    pub fn alloc_twice(alloc: Allocator) -> u64 {
        let first = alloc.array::<u64>(2);
        first[0] = 7;
        let second = alloc.array::<u64>(2);
        second[0] = 8;
        first[0]
    }

    /// Fills `out` with `fill`, then returns the words' total length.
    #[export]
    pub fn fill_then_measure(out: &mut [u8], words: &[&str], fill: u8) -> usize {
        out.fill(fill);
        words.iter().map(|w| w.len()).sum()
    }

    /// Copies `text` (without its NUL) into the start of `out`; returns
    /// the number of bytes copied.
    #[export]
    pub fn copy_cstr(text: &CStr, out: &mut [u8]) -> usize {
        let bytes = text.to_bytes();
        let n = bytes.len().min(out.len());
        out[..n].copy_from_slice(&bytes[..n]);
        n
    }

    /// `f(a, b, c)`.
    #[export]
    pub fn call3(f: Callback<fn(i32, i64, f64) -> f64>) -> f64 {
        f.call(1, 2, 3.5)
    }

    /// `f(a, b, c, d)`.
    #[export]
    #[allow(clippy::type_complexity)]
    pub fn call4(f: Callback<fn(u8, u16, u32, bool) -> u64>) -> u64 {
        f.call(1, 2, 3, true)
    }
}

/// Types no export mentions: still in the description, so still in Python.
pub mod unmentioned {
    use ffi_export::export;

    /// A record only Python builds.
    #[export]
    pub struct Lonely {
        /// A label.
        pub label: String,
    }

    /// An enum no function takes.
    #[export]
    pub enum Mood {
        /// Fine.
        Calm,
        /// Less so.
        Cross,
    }
}

/// Owned parameters, slices of every element kind, maps, sets, tuples,
/// 128-bit integers and binary results.
pub mod owned {
    use super::rich::{Kind, Person};
    use super::shapes::Shape;
    use ffi_export::export;
    use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

    /// The sum of an owned vector.
    #[export]
    pub fn sum_owned(values: Vec<i64>) -> i64 {
        values.into_iter().fold(0, i64::wrapping_add)
    }

    /// Upper-cases an owned string.
    #[export]
    pub fn shout_owned(text: String) -> String {
        text.to_uppercase()
    }

    /// The words, joined by `-`.
    #[export]
    pub fn hyphenate(words: Vec<String>) -> String {
        words.join("-")
    }

    /// The sum, or -1 for no values.
    #[export]
    pub fn maybe_total(values: Option<Vec<f64>>) -> f64 {
        values.map_or(-1.0, |values| values.iter().sum())
    }

    /// The lengths of nested lists.
    #[export]
    pub fn lengths(rows: Vec<Vec<u8>>) -> Vec<u32> {
        rows.iter().map(|row| row.len() as u32).collect()
    }

    /// The oldest person, if any.
    #[export]
    pub fn oldest(people: Vec<Person>) -> Option<Person> {
        people.into_iter().max_by_key(|person| person.age)
    }

    /// How many values are present.
    #[export]
    pub fn count_present(values: Vec<Option<i32>>) -> usize {
        values.iter().flatten().count()
    }

    /// The names of a slice of records (copied in).
    #[export]
    pub fn names(people: &[Person]) -> Vec<String> {
        people.iter().map(|person| person.name.clone()).collect()
    }

    /// How many admins a slice of enums holds.
    #[export]
    pub fn count_admins(kinds: &[Kind]) -> usize {
        kinds.iter().filter(|kind| **kind == Kind::Admin).count()
    }

    /// The total area of a slice of data enums.
    #[export]
    pub fn total_area(shapes: &[Shape]) -> f64 {
        shapes.iter().map(super::shapes::area).sum()
    }

    /// Joins a slice of owned strings.
    #[export]
    pub fn join_strings(parts: &[String], separator: &str) -> String {
        parts.join(separator)
    }

    /// Counts each word.
    #[export]
    pub fn word_counts(text: &str) -> HashMap<String, u32> {
        let mut counts = HashMap::new();
        for word in text.split_whitespace() {
            *counts.entry(word.to_owned()).or_default() += 1;
        }
        counts
    }

    /// The sum of a map's values.
    #[export]
    pub fn total_count(counts: HashMap<String, u32>) -> u32 {
        counts.values().sum()
    }

    /// The keys of an ordered map whose value is positive.
    #[export]
    pub fn positive_keys(map: BTreeMap<String, i32>) -> Vec<String> {
        map.into_iter()
            .filter(|(_, value)| *value > 0)
            .map(|(key, _)| key)
            .collect()
    }

    /// Groups names by their length.
    #[export]
    pub fn by_length(names: Vec<String>) -> BTreeMap<u32, Vec<String>> {
        let mut groups: BTreeMap<u32, Vec<String>> = BTreeMap::new();
        for name in names {
            groups.entry(name.len() as u32).or_default().push(name);
        }
        groups
    }

    /// The distinct values, in order.
    #[export]
    pub fn distinct(values: Vec<i32>) -> BTreeSet<i32> {
        values.into_iter().collect()
    }

    /// Whether every word is in the set.
    #[export]
    pub fn contains_all(set: HashSet<String>, words: &[&str]) -> bool {
        words.iter().all(|word| set.contains(*word))
    }

    /// The smallest and largest value.
    #[export]
    pub fn min_max(values: &[f64]) -> (f64, f64) {
        values
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                (lo.min(*v), hi.max(*v))
            })
    }

    /// Adds the halves of a pair.
    #[export]
    pub fn pair_sum(pair: (i32, i64)) -> i64 {
        i64::from(pair.0) + pair.1
    }

    /// A label and an optional count, as text.
    #[export]
    pub fn describe_pair(pair: (String, Option<u8>)) -> String {
        match pair.1 {
            Some(count) => format!("{} x{count}", pair.0),
            None => pair.0,
        }
    }

    /// Adds 128-bit integers, refusing overflow.
    #[export]
    pub fn wide_add(a: i128, b: i128) -> Result<i128, String> {
        a.checked_add(b)
            .ok_or_else(|| format!("{a} + {b} overflows"))
    }

    /// The largest u128.
    #[export]
    pub fn wide_max() -> u128 {
        u128::MAX
    }

    /// `n` copies of `byte`: binary data.
    #[export]
    pub fn repeat_byte(byte: u8, n: usize) -> Vec<u8> {
        vec![byte; n]
    }

    /// A record with a map, a set and a tuple.
    #[export]
    #[derive(Debug, Clone, PartialEq)]
    pub struct Inventory {
        pub name: String,
        pub counts: HashMap<String, u32>,
        pub tags: BTreeSet<String>,
        pub origin: (f64, f64),
    }

    /// An inventory of `n` items.
    #[export]
    pub fn make_inventory(n: u32) -> Inventory {
        Inventory {
            name: format!("inventory {n}"),
            counts: (0..n).map(|i| (format!("item{i}"), i)).collect(),
            tags: ["a", "b"].into_iter().map(str::to_owned).collect(),
            origin: (1.5, -2.0),
        }
    }

    /// The total count of an inventory.
    #[export]
    pub fn inventory_total(inventory: &Inventory) -> u32 {
        inventory.counts.values().sum()
    }

    /// Owned parameters the CPython fast path reads itself; panics, when
    /// asked, while holding them (dropped during the unwind, exactly once).
    #[export]
    pub fn native_then_panic(
        words: Vec<String>,
        counts: HashMap<String, u32>,
        pair: (String, Option<i64>),
        rows: Vec<Vec<f64>>,
        ordered: BTreeMap<i32, Vec<String>>,
        panic: bool,
    ) -> usize {
        let held = words.len() + counts.len() + pair.0.len() + rows.len() + ordered.len();
        if panic {
            panic!("holding {held} values read natively");
        }
        held
    }

    /// Takes every owned kind and, when asked, panics while holding them
    /// (they are dropped during the unwind, exactly once).
    #[export]
    pub fn owned_then_panic(
        words: Vec<String>,
        counts: HashMap<String, u32>,
        tags: BTreeSet<String>,
        pair: (String, Vec<u8>),
        people: &[Person],
        panic: bool,
    ) -> usize {
        let held = words.len() + counts.len() + tags.len() + pair.1.len() + people.len();
        if panic {
            panic!("holding {held} owned values");
        }
        held
    }
}

/// Default argument values (`#[ffi(default ..)]`) on parameters, methods
/// and record fields.
pub mod defaults {
    use super::rich::Kind;
    use ffi_export::export;
    use std::collections::HashMap;

    /// Greets `name`, `times` times, ending with `end`.
    #[export]
    pub fn greet_times(
        name: &str,
        #[ffi(default = 1)] times: u32,
        #[ffi(default = "!")] end: &str,
    ) -> String {
        format!(
            "{}{end}",
            format!("hello {name} ").repeat(times as usize).trim_end()
        )
    }

    /// Scales and shifts values, optionally clamping them to [0, 1].
    #[export]
    pub fn scaled(
        values: Vec<f64>,
        #[ffi(default = 1.0)] factor: f64,
        #[ffi(default = None)] offset: Option<f64>,
        #[ffi(default)] clamp: bool,
    ) -> Vec<f64> {
        values
            .iter()
            .map(|v| v * factor + offset.unwrap_or(0.0))
            .map(|v| if clamp { v.clamp(0.0, 1.0) } else { v })
            .collect()
    }

    /// Every kind of default, described.
    #[export]
    #[allow(clippy::too_many_arguments)]
    pub fn every_default(
        #[ffi(default = [])] tags: Vec<String>,
        #[ffi(default = {})] counts: HashMap<String, u32>,
        #[ffi(default = Kind::User)] kind: Kind,
        #[ffi(default = (1, "a"))] pair: (i32, String),
        #[ffi(default = -5)] shift: i64,
        #[ffi(default = ["x", "y"])] names: Vec<String>,
        #[ffi(default = 340282366920938463463374607431768211455)] big: u128,
        #[ffi(default = "tab\there \"quoted\" */")] text: &str,
    ) -> String {
        let mut counts: Vec<_> = counts.into_iter().collect();
        counts.sort();
        format!("{tags:?} {counts:?} {kind:?} {pair:?} {shift} {names:?} {big} {text:?}")
    }

    /// Settings with defaults.
    #[export]
    #[derive(Debug, Clone, PartialEq)]
    pub struct Settings {
        /// Required.
        pub name: String,
        /// The port.
        #[ffi(default = 8080)]
        pub port: u16,
        /// The role.
        #[ffi(default = Kind::Guest)]
        pub role: Kind,
        /// A note: `None` when not given.
        pub note: Option<String>,
        /// Tags, none by default.
        #[ffi(default)]
        pub tags: Vec<String>,
    }

    /// The settings as text.
    #[export]
    pub fn describe_settings(settings: &Settings) -> String {
        format!("{settings:?}")
    }

    /// A record whose `Option` fields are trailing: they default to `None`.
    #[export]
    #[derive(Debug, Clone, PartialEq)]
    pub struct Contact {
        /// Required.
        pub name: String,
        /// Optional.
        pub email: Option<String>,
        /// Optional.
        pub phone: Option<String>,
    }

    /// The contact as text.
    #[export]
    pub fn describe_contact(contact: &Contact) -> String {
        format!("{contact:?}")
    }

    /// A greeter object: defaults on a constructor and a method.
    pub struct Greeter {
        greeting: String,
    }

    #[export]
    impl Greeter {
        /// Greets with `greeting`.
        pub fn new(#[ffi(default = "Hello")] greeting: &str) -> Greeter {
            Greeter {
                greeting: greeting.to_owned(),
            }
        }

        /// Greets `name`, `times` times.
        pub fn greet(&self, name: &str, #[ffi(default = 1)] times: u32) -> String {
            vec![format!("{} {name}", self.greeting); times as usize].join(", ")
        }
    }
}

/// Typed errors: `#[export]` records and enums as `Err` values (their
/// value reaches Python and C), and the message chains of `anyhow` and
/// boxed errors.
pub mod typed_errors {
    use ffi_export::export;
    use std::error::Error as StdError;

    /// What checked arithmetic fails with: a `thiserror` enum with unit,
    /// struct and tuple variants.
    #[export]
    #[derive(Debug, thiserror::Error)]
    pub enum ArithmeticError {
        /// A division by zero.
        #[error("division by zero")]
        DivisionByZero,
        /// A result that does not fit an `i64`.
        #[error("integer overflow: {a} {op} {b}")]
        IntegerOverflow {
            /// The left operand.
            a: i64,
            /// The right operand.
            b: i64,
            /// The operation.
            op: String,
        },
        /// A value outside what is accepted, and why.
        #[error("{0} is out of range: {1}")]
        OutOfRange(i64, String),
    }

    /// This module's result, through an alias as crates write it.
    pub type Result<T> = std::result::Result<T, ArithmeticError>;

    /// `a / b`, refusing zero and overflow.
    #[export]
    pub fn checked_div(a: i64, b: i64) -> Result<i64> {
        if b == 0 {
            return Err(ArithmeticError::DivisionByZero);
        }
        a.checked_div(b).ok_or(ArithmeticError::IntegerOverflow {
            a,
            b,
            op: "/".to_owned(),
        })
    }

    /// `value` if it is in `low..=high`.
    #[export]
    pub fn in_range(value: i64, low: i64, high: i64) -> Result<i64> {
        if (low..=high).contains(&value) {
            Ok(value)
        } else {
            Err(ArithmeticError::OutOfRange(
                value,
                format!("not in {low}..={high}"),
            ))
        }
    }

    /// Fails with `text` repeated `times` times inside the error value (the
    /// leak tests' owned error value).
    #[export]
    pub fn fail_with_text(text: &str, times: usize) -> Result<String> {
        Err(ArithmeticError::OutOfRange(
            times as i64,
            text.repeat(times),
        ))
    }

    /// Halves even numbers; odd ones are out of range.
    #[export(batch)]
    pub fn halve_even(n: i64) -> Result<i64> {
        if n % 2 == 0 {
            Ok(n / 2)
        } else {
            Err(ArithmeticError::OutOfRange(n, "odd".to_owned()))
        }
    }

    /// Why access was denied: a field-less `thiserror` enum whose
    /// discriminants are not its variants' indexes.
    #[export]
    #[derive(Debug, Clone, Copy, thiserror::Error)]
    pub enum Denied {
        /// Nobody logged in.
        #[error("not logged in")]
        Anonymous = 10,
        /// The account is locked.
        #[error("account locked")]
        Locked = -20,
        /// Too many requests.
        #[error("quota exceeded")]
        OverQuota = 30,
    }

    /// Grants `level` 0, denies the others.
    #[export]
    pub fn check_access(level: u8) -> std::result::Result<u8, Denied> {
        match level {
            0 => Ok(0),
            1 => Err(Denied::Anonymous),
            2 => Err(Denied::Locked),
            _ => Err(Denied::OverQuota),
        }
    }

    /// A record as an error: its fields reach the caller.
    #[export]
    #[derive(Debug, thiserror::Error)]
    #[error("{field}: {reason} (code {code})")]
    pub struct ValidationError {
        /// The field that was refused.
        pub field: String,
        /// Why.
        pub reason: String,
        /// A number for it.
        pub code: u32,
        /// What would be accepted.
        pub hint: Option<String>,
    }

    /// Accepts ages up to 150.
    #[export]
    pub fn validate_age(age: i64) -> std::result::Result<u32, ValidationError> {
        match u32::try_from(age) {
            Ok(age) if age <= 150 => Ok(age),
            _ => Err(ValidationError {
                field: "age".to_owned(),
                reason: format!("{age} is not an age"),
                code: 422,
                hint: (age < 0).then(|| "a positive number".to_owned()),
            }),
        }
    }

    /// An error whose field names are taken by the exception's own
    /// attributes.
    #[export]
    #[derive(Debug, thiserror::Error)]
    pub enum Clash {
        /// Fields named like exception attributes.
        #[error("clash {args} {value} {variant}")]
        Fields {
            /// Named like `BaseException.args`.
            args: u32,
            /// Named like `FfiError.value`.
            value: String,
            /// Named like `FfiError.variant`.
            variant: bool,
        },
    }

    /// Always fails with a [`Clash`].
    #[export]
    pub fn clash() -> std::result::Result<(), Clash> {
        Err(Clash::Fields {
            args: 1,
            value: "v".to_owned(),
            variant: true,
        })
    }

    /// A wallet: methods fail with typed errors too.
    pub struct Wallet {
        balance: i64,
    }

    #[export]
    impl Wallet {
        /// A wallet holding `balance`.
        pub fn new(balance: i64) -> Wallet {
            Wallet { balance }
        }

        /// Spends `amount`, returning what is left.
        pub fn spend(&mut self, amount: i64) -> Result<i64> {
            if amount > self.balance {
                return Err(ArithmeticError::OutOfRange(
                    amount,
                    format!("more than the balance {}", self.balance),
                ));
            }
            self.balance -= amount;
            Ok(self.balance)
        }
    }

    fn parse_setting(text: &str) -> anyhow::Result<i64> {
        use anyhow::Context;
        text.trim()
            .parse::<i64>()
            .with_context(|| format!("parsing {text:?}"))
    }

    /// Parses a setting; an `anyhow` error with two layers of context.
    #[export]
    pub fn load_setting(text: &str) -> anyhow::Result<i64> {
        use anyhow::Context;
        parse_setting(text).context("loading the setting")
    }

    /// The innermost cause of [`boxed_chain`].
    #[derive(Debug, thiserror::Error)]
    #[error("reading {0:?}")]
    pub struct ReadFailed(String, #[source] std::io::Error);

    /// The outer error of [`boxed_chain`].
    #[derive(Debug, thiserror::Error)]
    #[error("loading the config")]
    pub struct LoadFailed(#[source] ReadFailed);

    fn load_config(path: &str) -> LoadFailed {
        let missing = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        LoadFailed(ReadFailed(path.to_owned(), missing))
    }

    /// Fails with a boxed error (`Send + Sync`) whose causes are chained.
    #[export]
    pub fn boxed_chain(path: &str) -> std::result::Result<u32, Box<dyn StdError + Send + Sync>> {
        Err(Box::new(load_config(path)))
    }

    /// Fails with a boxed error (neither `Send` nor `Sync`) whose causes
    /// are chained.
    #[export]
    pub fn boxed_local_chain(path: &str) -> std::result::Result<u32, Box<dyn StdError>> {
        Err(Box::new(load_config(path)))
    }
}

/// Items named like those of `sprites` (README, "Names and modules"): each
/// is reached by its module path (`lib.geometry.Spot`), and the C header
/// prefixes the shared names (`geometry_Spot_repr`).
pub mod geometry {
    use ffi_export::export;

    /// A place on the plane.
    #[export]
    pub struct Spot {
        /// Across.
        pub x: f64,
        /// Up.
        pub y: f64,
    }

    /// A grid cell: plain data.
    #[export]
    #[repr(C)]
    #[derive(Clone, Copy)]
    pub struct Cell {
        /// The row.
        pub row: i32,
        /// The column.
        pub col: i32,
    }

    /// A side of the plane.
    #[export]
    pub enum Layer {
        /// Behind.
        Back,
        /// In front.
        Front,
    }

    /// A plane figure.
    #[export]
    pub enum Figure {
        /// A point.
        Dot,
        /// A square.
        Square {
            /// Its side.
            side: f64,
        },
    }

    /// Spots drawn on a plane.
    #[derive(Default)]
    pub struct Canvas {
        spots: Vec<(f64, f64)>,
    }

    /// Spots drawn on a plane; its C symbols are `Canvas_*`.
    #[export]
    impl Canvas {
        /// An empty plane.
        pub fn new() -> Canvas {
            Canvas { spots: Vec::new() }
        }

        /// Draws a spot; returns how many are drawn.
        pub fn draw(&mut self, spot: &Spot) -> usize {
            self.spots.push((spot.x, spot.y));
            self.spots.len()
        }

        /// The last spot drawn.
        pub fn last(&self) -> Option<Spot> {
            self.spots.last().map(|&(x, y)| Spot { x, y })
        }
    }

    /// The area of a `w` by `h` rectangle (`shapes::area` has the C name
    /// `area`, `sprites::area` another).
    #[export(name = "geometry_area")]
    pub fn area(w: f64, h: f64) -> f64 {
        w * h
    }

    /// The distance between two spots.
    #[export]
    pub fn distance(a: &Spot, b: &Spot) -> f64 {
        (a.x - b.x).hypot(a.y - b.y)
    }

    /// The area of a figure.
    #[export]
    pub fn figure_area(figure: &Figure) -> f64 {
        match figure {
            Figure::Dot => 0.0,
            Figure::Square { side } => side * side,
        }
    }

    /// The cell a spot falls in.
    #[export]
    pub fn cell_of(spot: &Spot) -> Cell {
        Cell {
            row: spot.y.floor() as i32,
            col: spot.x.floor() as i32,
        }
    }

    /// The other side.
    #[export]
    pub fn flip(layer: Layer) -> Layer {
        match layer {
            Layer::Back => Layer::Front,
            Layer::Front => Layer::Back,
        }
    }

    /// A module in a module: `lib.geometry.solid`.
    pub mod solid {
        use ffi_export::export;

        /// A place in space (a third `Spot`).
        #[export]
        pub struct Spot {
            /// Across.
            pub x: f64,
            /// Up.
            pub y: f64,
            /// Out.
            pub z: f64,
        }

        /// A plane spot at height `z`.
        #[export]
        pub fn lift(spot: &super::Spot, z: f64) -> Spot {
            Spot {
                x: spot.x,
                y: spot.y,
                z,
            }
        }
    }
}

/// Items named like those of `geometry` (README, "Names and modules"):
/// `lib.sprites.Spot`, `lib.sprites.Canvas`.
pub mod sprites {
    use ffi_export::export;

    /// A place on the screen, in pixels.
    #[export]
    pub struct Spot {
        /// Across.
        pub px: i32,
        /// Down.
        pub py: i32,
        /// Its layer.
        pub layer: Layer,
    }

    /// A tile of a sprite sheet: plain data.
    #[export]
    #[repr(C)]
    #[derive(Clone, Copy)]
    pub struct Cell {
        /// The sheet.
        pub sheet: u16,
        /// The tile on it.
        pub tile: u16,
    }

    /// Drawing layers.
    #[export]
    pub enum Layer {
        /// The ground.
        Ground,
        /// Above it.
        Air,
        /// Above everything.
        Overlay,
    }

    /// What a sprite shows.
    #[export]
    pub enum Figure {
        /// Nothing.
        Blank,
        /// A tile.
        Tile(Cell),
    }

    /// A sprite's badge: named like the crate root's `Badge`.
    #[export]
    pub struct Badge {
        /// The icon's tile.
        pub icon: u16,
    }

    /// A screen of placed tiles.
    pub struct Canvas {
        width: u32,
        tiles: Vec<Cell>,
    }

    /// A screen of placed tiles; its C symbols are `SpriteCanvas_*`
    /// (`geometry::Canvas` exports `Canvas_*`).
    #[export(name = "SpriteCanvas")]
    impl Canvas {
        /// An empty screen, `width` tiles wide.
        pub fn new(width: u32) -> Canvas {
            Canvas {
                width,
                tiles: Vec::new(),
            }
        }

        /// Places a tile; returns how many are placed.
        pub fn place(&mut self, cell: &Cell) -> usize {
            self.tiles.push(*cell);
            self.tiles.len()
        }

        /// The width, in tiles.
        pub fn width(&self) -> u32 {
            self.width
        }
    }

    /// The area of a `w` by `h` sprite, in pixels.
    #[export(name = "sprites_area")]
    pub fn area(w: u32, h: u32) -> u64 {
        u64::from(w) * u64::from(h)
    }

    /// A spot on `layer`.
    #[export]
    pub fn spot(px: i32, py: i32, layer: Layer) -> Spot {
        Spot { px, py, layer }
    }

    /// The tile a figure shows (`None` for a blank).
    #[export]
    pub fn tile_of(figure: &Figure) -> Option<u16> {
        match figure {
            Figure::Blank => None,
            Figure::Tile(cell) => Some(cell.tile),
        }
    }

    /// The first cell of a sheet.
    #[export]
    pub fn first_cell(cells: &[Cell]) -> Option<Cell> {
        cells.first().copied()
    }
}

/// A badge: a type of the crate root named like `sprites::Badge`, so
/// `lib.Badge` is this one.
#[export]
pub struct Badge {
    /// Its text.
    pub text: String,
}

/// Where a plane spot lands on the screen: types of both modules in one
/// signature.
#[export]
pub fn to_screen(spot: &geometry::Spot, layer: sprites::Layer) -> sprites::Spot {
    sprites::Spot {
        px: spot.x.round() as i32,
        py: -spot.y.round() as i32,
        layer,
    }
}

/// A badge's text, twice.
#[export]
pub fn badge_twice(badge: &Badge) -> String {
    badge.text.repeat(2)
}

/// `async fn` exports: futures driven by the library's executor (or tokio
/// through `ffi_export::task::set_spawner`), awaited from asyncio.
pub mod async_fns {
    use super::rich::{Kind, Point};
    use super::shapes::Shape;
    use super::typed_errors::{checked_div, ArithmeticError};
    use ffi_export::export;
    use std::collections::HashMap;
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};
    use std::task::{Context, Poll, Waker};
    use std::time::Duration;

    static LIVE: AtomicUsize = AtomicUsize::new(0);

    /// Counts itself live until dropped: shows when a future is dropped.
    struct Live;

    impl Live {
        fn new() -> Live {
            LIVE.fetch_add(1, Ordering::SeqCst);
            Live
        }
    }

    impl Drop for Live {
        fn drop(&mut self) {
            LIVE.fetch_sub(1, Ordering::SeqCst);
        }
    }

    #[derive(Default)]
    struct Timer {
        fired: bool,
        waker: Option<Waker>,
    }

    /// A runtime-free timer: a thread wakes the future after `ms`.
    struct Delay {
        ms: u64,
        timer: Option<Arc<Mutex<Timer>>>,
        _live: Live,
    }

    fn delay(ms: u64) -> Delay {
        Delay {
            ms,
            timer: None,
            _live: Live::new(),
        }
    }

    impl Future for Delay {
        type Output = ();

        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            let ms = self.ms;
            let timer = self.timer.get_or_insert_with(|| {
                let timer = Arc::new(Mutex::new(Timer::default()));
                let shared = timer.clone();
                std::thread::spawn(move || {
                    std::thread::sleep(Duration::from_millis(ms));
                    let mut timer = shared.lock().unwrap();
                    timer.fired = true;
                    if let Some(waker) = timer.waker.take() {
                        waker.wake();
                    }
                });
                timer
            });
            let mut timer = timer.lock().unwrap();
            if timer.fired {
                return Poll::Ready(());
            }
            timer.waker = Some(cx.waker().clone());
            Poll::Pending
        }
    }

    /// Sleeps `ms` milliseconds without blocking a thread; returns `ms`.
    #[export]
    pub async fn nap_ms(ms: u64) -> u64 {
        delay(ms).await;
        ms
    }

    /// Never finishes (until cancelled: its drop is counted).
    #[export]
    pub async fn never() -> u32 {
        let _live = Live::new();
        std::future::pending::<()>().await;
        0
    }

    /// Futures of this module alive now.
    #[export]
    pub fn live_futures() -> usize {
        LIVE.load(Ordering::SeqCst)
    }

    /// Tasks started and not yet finished or cancelled.
    #[export]
    pub fn live_tasks() -> usize {
        ffi_export::task::live_tasks()
    }

    /// Blocks its executor thread for `ms` (not the caller's: it leaves
    /// the caller's thread first).
    #[export]
    pub async fn spin_ms(ms: u64) -> u64 {
        ffi_export::task::leave_caller_thread().await;
        std::thread::sleep(Duration::from_millis(ms));
        ms
    }

    /// Whether the future ran on an executor thread: at its first poll,
    /// and (with `leave`) after `leave_caller_thread`. Without `leave` it
    /// is ready at its first poll.
    #[export]
    pub async fn where_polled(leave: bool) -> Vec<bool> {
        let on_pool = || {
            std::thread::current()
                .name()
                .is_some_and(|name| name.starts_with("ffi-export-async-"))
        };
        let mut seen = vec![on_pool()];
        if leave {
            ffi_export::task::leave_caller_thread().await;
            seen.push(on_pool());
        }
        seen
    }

    /// `a + b`, later.
    #[export]
    pub async fn add_later(a: i64, b: i64) -> i64 {
        delay(1).await;
        a + b
    }

    /// A greeting for `name`, later.
    #[export]
    pub async fn greet_later(name: String) -> String {
        delay(1).await;
        format!("hello, {name}")
    }

    /// Nothing, later.
    #[export]
    pub async fn unit_later() {
        delay(1).await;
    }

    /// `x` doubled, later.
    #[export]
    pub async fn maybe_later(x: Option<i32>) -> Option<i32> {
        delay(1).await;
        x.map(|x| x * 2)
    }

    /// `n` points on the diagonal, later.
    #[export]
    pub async fn points_later(n: u32) -> Vec<Point> {
        delay(1).await;
        (0..n)
            .map(|i| Point {
                x: f64::from(i),
                y: f64::from(i),
            })
            .collect()
    }

    /// How many times each word occurs, later.
    #[export]
    pub async fn count_later(words: Vec<String>) -> HashMap<String, u32> {
        delay(1).await;
        let mut counts = HashMap::new();
        for word in words {
            *counts.entry(word).or_insert(0) += 1;
        }
        counts
    }

    /// `n` bytes of 7, later.
    #[export]
    pub async fn bytes_later(n: usize) -> Vec<u8> {
        delay(1).await;
        vec![7; n]
    }

    /// A shape grown by `by`, later (an enum with data in and out).
    #[export]
    pub async fn grow_later(shape: Shape, by: f64) -> Shape {
        delay(1).await;
        match shape {
            Shape::Circle { radius } => Shape::Circle {
                radius: radius * by,
            },
            other => other,
        }
    }

    /// The next kind, the words, a wide number and a pair, later (a
    /// field-less enum, a tuple, `i128`, `Vec<String>`).
    #[export]
    pub async fn mixed_later(
        kind: Kind,
        words: Vec<String>,
        wide: i128,
    ) -> (Kind, Vec<String>, i128, Option<(String, u8)>) {
        delay(1).await;
        let first = words.first().map(|word| (word.clone(), word.len() as u8));
        (kind, words, wide * 2, first)
    }

    /// `a / b`, later: a typed error (`lib.errors.ArithmeticError`).
    #[export]
    pub async fn div_later(a: i64, b: i64) -> Result<i64, ArithmeticError> {
        delay(1).await;
        checked_div(a, b)
    }

    /// Fails with `message`, later (a `String` error).
    #[export]
    pub async fn fail_later(message: String) -> Result<u32, String> {
        delay(1).await;
        Err(message)
    }

    /// Panics with `message`, later.
    #[export]
    pub async fn panic_later(message: String) -> u32 {
        delay(1).await;
        panic!("{message}")
    }

    /// A stopwatch made by an async function (objects cross as handles).
    #[derive(Default)]
    pub struct Stopwatch {
        laps: Vec<u64>,
    }

    #[export]
    impl Stopwatch {
        /// An empty stopwatch.
        pub fn new() -> Stopwatch {
            Stopwatch { laps: Vec::new() }
        }

        /// Records a lap.
        pub fn lap(&mut self, ms: u64) {
            self.laps.push(ms);
        }

        /// The laps so far.
        pub fn laps(&self) -> Vec<u64> {
            self.laps.clone()
        }

        /// A stopwatch with one lap of `ms`, made after `ms`: an async
        /// static function.
        pub async fn started_after(ms: u64) -> Stopwatch {
            delay(ms).await;
            Stopwatch { laps: vec![ms] }
        }
    }

    /// Routes every later async export to a tokio runtime (for futures
    /// that need its reactor); `false` if a spawner was already set.
    #[export]
    pub fn use_tokio() -> bool {
        static RUNTIME: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
        let runtime = RUNTIME.get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_time()
                .build()
                .expect("a tokio runtime")
        });
        let handle = runtime.handle().clone();
        ffi_export::task::set_spawner(move |future| {
            handle.spawn(future);
        })
    }

    /// Sleeps with tokio's timer (needs a tokio reactor: `use_tokio()`).
    #[export]
    pub async fn tokio_sleep(ms: u64) -> u64 {
        tokio::time::sleep(Duration::from_millis(ms)).await;
        ms
    }
}

/// Traits the caller implements, and stored closures (`Box<dyn Listener>`,
/// `Arc<dyn Fn(..)>`): kept by Rust, called later and from other threads.
pub mod traits {
    use ffi_export::export;
    use std::sync::{Arc, Mutex};

    /// Something that happened.
    #[export]
    #[derive(Debug, Clone, PartialEq)]
    pub struct Event {
        /// What kind of event.
        pub kind: String,
        /// Its sequence number.
        pub seq: u32,
        /// Tags attached to it.
        pub tags: Vec<String>,
    }

    /// Why a listener refused an event.
    #[export]
    #[derive(Debug, thiserror::Error)]
    pub enum ListenerError {
        /// The listener is busy.
        #[error("busy")]
        Busy,
        /// The event was rejected.
        #[error("rejected: {reason}")]
        Rejected {
            /// Why.
            reason: String,
        },
    }

    /// Receives events; implemented in Python (any object with these methods).
    #[export]
    pub trait Listener: Send + Sync {
        /// Handles one event.
        fn on_event(&self, event: Event) -> Result<(), ListenerError>;
        /// The listener's name.
        fn name(&self) -> String;
        /// How many events it wants at most (`None`: no limit).
        fn limit(&self, hint: Option<u32>) -> Option<u32>;
    }

    /// Delivers events to the listeners it keeps.
    #[derive(Default)]
    pub struct Bus {
        listeners: Vec<Arc<dyn Listener>>,
    }

    #[export]
    impl Bus {
        /// An empty bus.
        pub fn new() -> Bus {
            Bus::default()
        }
        /// Keeps `listener` until the bus is closed.
        pub fn subscribe(&mut self, listener: Box<dyn Listener>) -> u32 {
            self.listeners.push(Arc::from(listener));
            self.listeners.len() as u32
        }
        /// Forgets every listener.
        pub fn clear(&mut self) {
            self.listeners.clear();
        }
        /// The listeners' names, in order.
        pub fn names(&self) -> Vec<String> {
            self.listeners.iter().map(|l| l.name()).collect()
        }
        /// Sends an event to every listener on this thread; the errors
        /// they returned, as text.
        pub fn publish(&self, kind: String, seq: u32) -> Vec<String> {
            deliver(&self.listeners, kind, seq)
        }
        /// Sends `count` events to every listener from `threads` new Rust
        /// threads at once; the number of errors.
        pub fn publish_from_threads(&self, threads: u32, count: u32) -> u32 {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    let listeners = self.listeners.clone();
                    std::thread::spawn(move || {
                        (0..count)
                            .map(|i| deliver(&listeners, format!("t{t}"), i).len() as u32)
                            .sum::<u32>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or(u32::MAX))
                .sum()
        }
        /// Sends events from a detached Rust thread forever (until the
        /// process ends): for shutdown tests.
        pub fn publish_forever(&self) {
            let listeners = self.listeners.clone();
            std::thread::spawn(move || {
                let mut seq = 0;
                loop {
                    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        deliver(&listeners, "tick".to_owned(), seq)
                    }));
                    seq = seq.wrapping_add(1);
                }
            });
        }
    }

    fn deliver(listeners: &[Arc<dyn Listener>], kind: String, seq: u32) -> Vec<String> {
        let event = Event {
            kind,
            seq,
            tags: vec!["a".to_owned(), "b".to_owned()],
        };
        listeners
            .iter()
            .filter_map(|l| l.on_event(event.clone()).err())
            .map(|e| match e {
                ListenerError::Busy => "busy".to_owned(),
                ListenerError::Rejected { reason } => format!("rejected: {reason}"),
            })
            .collect()
    }

    /// Calls a listener once, now, without keeping it.
    #[export]
    pub fn notify_once(listener: Arc<dyn Listener>, kind: String) -> Result<String, ListenerError> {
        listener.on_event(Event {
            kind,
            seq: 0,
            tags: Vec::new(),
        })?;
        Ok(listener.name())
    }

    /// `limit` of a listener, with `hint`.
    #[export]
    pub fn listener_limit(listener: Box<dyn Listener>, hint: Option<u32>) -> Option<u32> {
        listener.limit(hint)
    }

    type Handler = Box<dyn Fn(String, Vec<i64>) -> Option<String> + Send + Sync>;

    static HANDLERS: Mutex<Vec<Handler>> = Mutex::new(Vec::new());

    /// Keeps `handler` for later (`run_handlers`).
    #[export]
    pub fn add_handler(
        handler: Box<dyn Fn(String, Vec<i64>) -> Option<String> + Send + Sync>,
    ) -> u32 {
        let mut handlers = HANDLERS.lock().unwrap_or_else(|e| e.into_inner());
        handlers.push(handler);
        handlers.len() as u32
    }

    /// Runs every kept handler with `(text, [1, 2, 3])` on a new Rust
    /// thread (a handler failing panics it, and then this call).
    #[export]
    pub fn run_handlers(text: String) -> Vec<Option<String>> {
        std::thread::spawn(move || {
            let handlers = HANDLERS.lock().unwrap_or_else(|e| e.into_inner());
            handlers
                .iter()
                .map(|h| h(text.clone(), vec![1, 2, 3]))
                .collect()
        })
        .join()
        // A handler that failed panicked that thread: this call panics too.
        .unwrap_or_else(|payload| std::panic::resume_unwind(payload))
    }

    /// Drops every kept handler.
    #[export]
    pub fn clear_handlers() {
        HANDLERS.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// Applies a fallible stored closure (an `Arc`) to each number.
    #[export]
    pub fn map_checked(
        f: Arc<dyn Fn(i64) -> Result<i64, ListenerError> + Send + Sync>,
        values: Vec<i64>,
    ) -> Result<Vec<i64>, ListenerError> {
        values.into_iter().map(|v| f(v)).collect()
    }

    /// Calls a unit closure `times` times.
    #[export]
    pub fn repeat_call(f: Box<dyn Fn(u32) + Send + Sync>, times: u32) {
        for i in 0..times {
            f(i);
        }
    }

    /// A button: implemented in Rust (returned to the caller) or by the
    /// caller (passed in).
    #[export]
    pub trait Button: Send + Sync {
        /// Presses it `times` times; what it shows afterwards.
        fn press(&self, times: u32) -> String;
        /// Its label.
        fn label(&self) -> String;
    }

    /// A Rust button counting its presses.
    pub struct Counter {
        label: String,
        presses: std::sync::atomic::AtomicU32,
    }

    impl Button for Counter {
        fn press(&self, times: u32) -> String {
            let total = self
                .presses
                .fetch_add(times, std::sync::atomic::Ordering::SeqCst)
                + times;
            format!("{}: {total}", self.label)
        }
        fn label(&self) -> String {
            self.label.clone()
        }
    }

    fn counter(label: &str) -> Arc<dyn Button> {
        Arc::new(Counter {
            label: label.to_owned(),
            presses: Default::default(),
        })
    }

    /// A new Rust button, boxed.
    #[export]
    pub fn make_button(label: String) -> Box<dyn Button> {
        Box::new(Counter {
            label,
            presses: Default::default(),
        })
    }

    /// Buttons sharing one counter (`Arc`), in a list.
    #[export]
    pub fn shared_buttons(count: u32) -> Vec<Arc<dyn Button>> {
        let one = counter("shared");
        (0..count).map(|_| one.clone()).collect()
    }

    /// A button, or none.
    #[export]
    pub fn maybe_button(label: Option<String>) -> Option<Arc<dyn Button>> {
        label.map(|l| counter(&l))
    }

    /// Presses a button (Rust's or the caller's) from a Rust thread.
    #[export]
    pub fn press_on_thread(button: Arc<dyn Button>, times: u32) -> String {
        std::thread::spawn(move || button.press(times))
            .join()
            .unwrap_or_default()
    }

    /// Presses a boxed button once and returns its label.
    #[export]
    pub fn label_of(button: Box<dyn Button>) -> String {
        button.press(1);
        button.label()
    }

    type Echo = Arc<dyn Fn(String, u32) -> String + Send + Sync>;

    static ECHO: Mutex<Option<Echo>> = Mutex::new(None);

    /// Keeps `f` for `call_echo`.
    #[export]
    pub fn set_echo(f: Arc<dyn Fn(String, u32) -> String + Send + Sync>) {
        *ECHO.lock().unwrap_or_else(|e| e.into_inner()) = Some(f);
    }

    /// Forgets the kept `f`.
    #[export]
    pub fn clear_echo() {
        *ECHO.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// Calls the kept `f(text, depth)` (which may call this again: nested
    /// calls of one Python object on one thread).
    #[export]
    pub fn call_echo(text: String, depth: u32) -> String {
        let f = ECHO.lock().unwrap_or_else(|e| e.into_inner()).clone();
        f.map_or_else(String::new, |f| f(text, depth))
    }
}

/// Objects as parameters (`&T`, `&mut T`) and shared objects (`Arc<T>`):
/// `tests/python/test_objects.py`.
pub mod shared_objects {
    use ffi_export::{export, Callback};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};

    static LIVE_TALLIES: AtomicUsize = AtomicUsize::new(0);
    static LIVE_ITEMS: AtomicUsize = AtomicUsize::new(0);

    /// A count owned by its caller: `&self` and `&mut self` methods.
    pub struct Tally {
        count: i64,
    }

    impl Drop for Tally {
        fn drop(&mut self) {
            LIVE_TALLIES.fetch_sub(1, Ordering::SeqCst);
        }
    }

    #[export]
    impl Tally {
        /// A tally starting at `start`.
        pub fn new(start: i64) -> Tally {
            LIVE_TALLIES.fetch_add(1, Ordering::SeqCst);
            Tally { count: start }
        }

        /// The count.
        pub fn get(&self) -> i64 {
            self.count
        }

        /// Adds `by`; returns the new count.
        pub fn add(&mut self, by: i64) -> i64 {
            self.count += by;
            self.count
        }

        /// Adds `other`'s count to this one's.
        pub fn absorb(&mut self, other: &Tally) -> i64 {
            self.count += other.count;
            self.count
        }

        /// Moves `amount` from this tally to `other`.
        pub fn give(&mut self, other: &mut Tally, amount: i64) -> i64 {
            self.count -= amount;
            other.count += amount;
            self.count
        }

        /// Whether `other` is this very tally.
        pub fn same(&self, other: &Tally) -> bool {
            std::ptr::eq(self, other)
        }

        /// Panics after changing this tally (which is then unusable), having
        /// read `other` (which is not).
        pub fn explode_with(&mut self, other: &Tally) -> i64 {
            self.count = -1;
            panic!("explode_with: other is {}", other.count)
        }

        /// Calls `poke` while this tally is borrowed.
        pub fn poke(&self, poke: Callback<fn() -> i64>) -> i64 {
            poke.call() + self.count
        }

        /// How many tallies are alive.
        pub fn live() -> usize {
            LIVE_TALLIES.load(Ordering::SeqCst)
        }

        /// A shared tally: only its `&self` methods accept it.
        pub fn new_shared(start: i64) -> Arc<Tally> {
            Arc::new(Tally::new(start))
        }
    }

    /// The count of a shared tally (an owned one is refused).
    #[export]
    pub fn shared_count(tally: Arc<Tally>) -> i64 {
        tally.count
    }

    /// `a + b`.
    #[export]
    pub fn tally_sum(a: &Tally, b: &Tally) -> i64 {
        a.count + b.count
    }

    /// Moves `amount` from `from` to `to`; returns `to`'s count.
    #[export]
    pub fn tally_transfer(from: &mut Tally, to: &mut Tally, amount: i64) -> i64 {
        from.count -= amount;
        to.count += amount;
        to.count
    }

    /// A named value shared by Python and Rust (`Arc<Item>`): it changes
    /// through its own lock, with `&self` methods.
    pub struct Item {
        name: String,
        value: Mutex<i64>,
    }

    impl Drop for Item {
        fn drop(&mut self) {
            LIVE_ITEMS.fetch_sub(1, Ordering::SeqCst);
        }
    }

    #[export]
    impl Item {
        /// A new shared item.
        pub fn new(name: &str, value: i64) -> Arc<Item> {
            LIVE_ITEMS.fetch_add(1, Ordering::SeqCst);
            Arc::new(Item {
                name: name.to_owned(),
                value: Mutex::new(value),
            })
        }

        /// Its name.
        pub fn name(&self) -> String {
            self.name.clone()
        }

        /// Its value.
        pub fn value(&self) -> i64 {
            *self.value.lock().unwrap_or_else(|e| e.into_inner())
        }

        /// Sets its value.
        pub fn set(&self, value: i64) {
            *self.value.lock().unwrap_or_else(|e| e.into_inner()) = value;
        }

        /// Refused on a shared item (`&mut self`).
        pub fn rename(&mut self, name: String) {
            self.name = name;
        }

        /// Itself, as another `Arc`.
        pub fn me(self: Arc<Self>) -> Arc<Item> {
            self
        }

        /// How many `Arc`s of it exist (the registry's, this call's, and
        /// those Rust objects hold).
        pub fn holders(self: Arc<Self>) -> usize {
            Arc::strong_count(&self)
        }

        /// Its value after `ms` milliseconds: an async method of a shared
        /// object (the future owns an `Arc` of it, no lock is held).
        pub async fn value_later(self: Arc<Self>, ms: u64) -> i64 {
            std::thread::sleep(std::time::Duration::from_millis(ms));
            self.value()
        }

        /// How many items are alive.
        pub fn live() -> usize {
            LIVE_ITEMS.load(Ordering::SeqCst)
        }
    }

    /// Items held by Rust, shared with Python.
    pub struct Shelf {
        items: Mutex<Vec<Arc<Item>>>,
    }

    #[export]
    impl Shelf {
        /// An empty shelf.
        pub fn new() -> Arc<Shelf> {
            Arc::new(Shelf {
                items: Mutex::new(Vec::new()),
            })
        }

        fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Arc<Item>>> {
            self.items.lock().unwrap_or_else(|e| e.into_inner())
        }

        /// Puts `item` on the shelf; returns how many it holds.
        pub fn put(&self, item: Arc<Item>) -> usize {
            let mut items = self.lock();
            items.push(item);
            items.len()
        }

        /// Puts all of `items`.
        pub fn put_all(&self, items: Vec<Arc<Item>>) -> usize {
            let mut held = self.lock();
            held.extend(items);
            held.len()
        }

        /// The items (the same ones, shared).
        pub fn items(&self) -> Vec<Arc<Item>> {
            self.lock().clone()
        }

        /// The first item called `name`.
        pub fn find(&self, name: &str) -> Option<Arc<Item>> {
            self.lock().iter().find(|item| item.name == name).cloned()
        }

        /// Lets go of every item.
        pub fn clear(&self) {
            let items = std::mem::take(&mut *self.lock());
            drop(items);
        }

        /// The sum of the values.
        pub fn total(&self) -> i64 {
            self.lock().iter().map(|item| item.value()).sum()
        }
    }

    /// A record holding a shared item.
    #[export]
    pub struct Tagged {
        /// The tag.
        pub tag: String,
        /// The item.
        pub item: Arc<Item>,
    }

    /// `Tagged { tag, item }`.
    #[export]
    pub fn tag_item(tag: String, item: Arc<Item>) -> Tagged {
        Tagged { tag, item }
    }

    /// The tagged item's value.
    #[export]
    pub fn tagged_value(tagged: Tagged) -> i64 {
        tagged.item.value()
    }

    /// The item's value, or -1.
    #[export]
    pub fn maybe_value(item: Option<Arc<Item>>) -> i64 {
        item.map_or(-1, |item| item.value())
    }

    /// The total of the tallies borrowed by `&Tally` and the items'.
    #[export]
    pub fn tally_plus_item(tally: &Tally, item: &Item) -> i64 {
        tally.count + item.value()
    }
}

/// Bytes the Rust side holds: a counting global allocator, so tests prove
/// "freed exactly once" exactly, on every interpreter (RSS also moves with
/// the interpreter's own heap; PyPy's ctypes leaks every struct returned by
/// value, which RSS cannot tell from ours).
pub mod heap {
    use ffi_export::export;
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::sync::atomic::{AtomicI64, Ordering};

    static LIVE: AtomicI64 = AtomicI64::new(0);

    struct Counting;

    fn add(bytes: usize) {
        LIVE.fetch_add(bytes as i64, Ordering::Relaxed);
    }

    fn sub(bytes: usize) {
        LIVE.fetch_sub(bytes as i64, Ordering::Relaxed);
    }

    // SAFETY: every method forwards to `System` with the same arguments and
    // only counts; the counts never affect what is allocated.
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            // SAFETY: forwarded contract.
            let ptr = unsafe { System.alloc(layout) };
            if !ptr.is_null() {
                add(layout.size());
            }
            ptr
        }
        unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
            // SAFETY: forwarded contract.
            let ptr = unsafe { System.alloc_zeroed(layout) };
            if !ptr.is_null() {
                add(layout.size());
            }
            ptr
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            // SAFETY: forwarded contract.
            unsafe { System.dealloc(ptr, layout) };
            sub(layout.size());
        }
        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            // SAFETY: forwarded contract.
            let new = unsafe { System.realloc(ptr, layout, new_size) };
            if !new.is_null() {
                sub(layout.size());
                add(new_size);
            }
            new
        }
    }

    #[global_allocator]
    static COUNTING: Counting = Counting;

    /// The bytes the library's Rust code holds allocated right now.
    #[export]
    pub fn heap_live_bytes() -> i64 {
        LIVE.load(Ordering::Relaxed)
    }
}

/// Objects moved into Rust by value: parameters, `Vec`, `Option`, maps and
/// record fields holding them (the Python objects they came from close).
pub mod byvalue {
    use ffi_export::{export, Callback};
    use std::collections::HashMap;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    static LIVE_PARTS: AtomicUsize = AtomicUsize::new(0);

    /// A part: owned by one holder at a time (Python, or a Rust value it
    /// was moved into).
    pub struct Part {
        name: String,
        weight: i64,
    }

    impl Drop for Part {
        fn drop(&mut self) {
            LIVE_PARTS.fetch_sub(1, Ordering::SeqCst);
        }
    }

    fn part(name: String, weight: i64) -> Part {
        LIVE_PARTS.fetch_add(1, Ordering::SeqCst);
        Part { name, weight }
    }

    #[export]
    impl Part {
        /// A part named `name` weighing `weight`.
        pub fn new(name: String, weight: i64) -> Part {
            part(name, weight)
        }

        /// A shared part (`Arc<Part>`): it cannot be moved.
        pub fn new_shared(name: String, weight: i64) -> Arc<Part> {
            Arc::new(part(name, weight))
        }

        /// Its name.
        pub fn name(&self) -> String {
            self.name.clone()
        }

        /// Its weight.
        pub fn weight(&self) -> i64 {
            self.weight
        }

        /// Changes its weight.
        pub fn set_weight(&mut self, weight: i64) {
            self.weight = weight;
        }

        /// Calls `poke` while this part is borrowed.
        pub fn poke(&self, poke: Callback<fn() -> i64>) -> i64 {
            poke.call() + self.weight
        }

        /// How many parts are alive (in Python or in Rust).
        pub fn live() -> usize {
            LIVE_PARTS.load(Ordering::SeqCst)
        }
    }

    /// A machine owning the parts moved into it.
    #[derive(Default)]
    pub struct Machine {
        parts: Vec<Part>,
    }

    #[export]
    impl Machine {
        /// An empty machine.
        pub fn new() -> Machine {
            Machine::default()
        }

        /// Takes `part`; returns how many parts it has.
        pub fn adopt(&mut self, part: Part) -> usize {
            self.parts.push(part);
            self.parts.len()
        }

        /// Takes every part of `parts`; returns how many parts it has.
        pub fn adopt_all(&mut self, parts: Vec<Part>) -> usize {
            self.parts.extend(parts);
            self.parts.len()
        }

        /// The total weight of its parts.
        pub fn weight(&self) -> i64 {
            self.parts.iter().map(|part| part.weight).sum()
        }

        /// Its parts' names, in order.
        pub fn names(&self) -> Vec<String> {
            self.parts.iter().map(|part| part.name.clone()).collect()
        }

        /// Panics mid-way: the machine is poisoned (later calls on it fail
        /// before their function runs, moving nothing).
        pub fn explode(&mut self) {
            panic!("machine exploded with {} parts", self.parts.len())
        }

        /// Gives its parts back (new Python objects).
        pub fn release_parts(&mut self) -> Vec<Part> {
            std::mem::take(&mut self.parts)
        }
    }

    /// Weighs `part` and drops it.
    #[export]
    pub fn weigh(part: Part) -> i64 {
        part.weight
    }

    /// The total weight of `parts` (dropped).
    #[export]
    pub fn total(parts: Vec<Part>) -> i64 {
        parts.iter().map(|part| part.weight).sum()
    }

    /// The weight of `part`, or -1 for none.
    #[export]
    pub fn maybe_weigh(part: Option<Part>) -> i64 {
        part.map_or(-1, |part| part.weight)
    }

    /// Both weights: `first` and `second` must be two different parts.
    #[export]
    pub fn pair_weight(first: Part, second: Part) -> i64 {
        first.weight + second.weight
    }

    /// The total weight of the parts, by name.
    #[export]
    pub fn named_total(parts: HashMap<String, Part>) -> i64 {
        parts.values().map(|part| part.weight).sum()
    }

    /// Moves `part` and `extra` in, then reads the shared `parent`: an owned
    /// part passed as `parent` fails after `part` was reserved.
    #[export]
    pub fn attach(part: Part, parent: Arc<Part>, extra: Option<Part>) -> i64 {
        part.weight + parent.weight + extra.map_or(0, |extra| extra.weight)
    }

    /// Moves `part` in, then borrows `scale` mutably.
    #[export]
    pub fn weigh_into(part: Part, scale: &mut Part) -> i64 {
        scale.weight += part.weight;
        scale.weight
    }

    /// Panics after `part` was moved in: the part is dropped while
    /// unwinding.
    #[export]
    pub fn weigh_and_panic(part: Part) -> i64 {
        panic!("weigh_and_panic: {} weighs {}", part.name, part.weight)
    }

    /// Fails with an error after `part` was moved in (it is dropped).
    #[export]
    pub fn weigh_or_fail(part: Part, fail: bool) -> Result<i64, String> {
        match fail {
            true => Err(format!("{} refused", part.name)),
            false => Ok(part.weight),
        }
    }

    /// A kit: a record with object fields.
    #[export]
    pub struct Kit {
        /// Its label.
        pub label: String,
        /// Its main part.
        pub main: Part,
        /// Its spare parts.
        pub spares: Vec<Part>,
        /// An extra part, if any.
        pub extra: Option<Part>,
    }

    /// A kit of fresh parts.
    #[export]
    pub fn make_kit(label: String, weight: i64, spares: u32) -> Kit {
        Kit {
            main: part(format!("{label}-main"), weight),
            spares: (0..spares)
                .map(|i| part(format!("{label}-spare{i}"), i64::from(i)))
                .collect(),
            extra: None,
            label,
        }
    }

    /// The total weight of a kit (moved in and dropped).
    #[export]
    pub fn kit_weight(kit: Kit) -> i64 {
        kit.main.weight
            + kit.spares.iter().map(|part| part.weight).sum::<i64>()
            + kit.extra.map_or(0, |part| part.weight)
    }

    /// The total weight of several kits.
    #[export]
    pub fn kits_weight(kits: Vec<Kit>) -> i64 {
        kits.into_iter().map(kit_weight).sum()
    }

    /// Takes a kit apart: its parts, main first (new Python objects).
    #[export]
    pub fn unpack(kit: Kit) -> Vec<Part> {
        let mut parts = vec![kit.main];
        parts.extend(kit.spares);
        parts.extend(kit.extra);
        parts
    }

    /// A slot: an enum whose variants may hold parts.
    #[export]
    pub enum Slot {
        /// Nothing in it.
        Empty,
        /// A part.
        Filled(Part),
        /// A labelled part.
        Labeled {
            /// The label.
            label: String,
            /// The part.
            part: Part,
        },
    }

    /// The weight in `slot` (moved in and dropped).
    #[export]
    pub fn slot_weight(slot: Slot) -> i64 {
        match slot {
            Slot::Empty => 0,
            Slot::Filled(part) | Slot::Labeled { part, .. } => part.weight,
        }
    }

    /// `part` in a labelled slot (given back as a new object).
    #[export]
    pub fn label_part(label: String, part: Part) -> Slot {
        Slot::Labeled { label, part }
    }

    /// A rack of bins, each of which may hold a part and racks of its own
    /// (records reaching each other: their objects are found at any depth).
    #[export]
    pub struct Rack {
        /// Its bins.
        pub bins: Vec<Bin>,
    }

    /// A bin of a rack.
    #[export]
    pub struct Bin {
        /// Its part, if any.
        pub part: Option<Part>,
        /// Racks inside it.
        pub racks: Vec<Rack>,
    }

    /// The total weight of the parts in a rack, at any depth (moved in).
    #[export]
    pub fn rack_weight(rack: Rack) -> i64 {
        rack.bins
            .into_iter()
            .map(|bin| {
                bin.part.map_or(0, |part| part.weight)
                    + bin.racks.into_iter().map(rack_weight).sum::<i64>()
            })
            .sum()
    }

    /// How many objects of any type the registry holds (a moved object
    /// leaves it; a failed move keeps it).
    #[export]
    pub fn registry_entries() -> usize {
        ffi_export::__private::live_objects()
    }

    /// The kit with a new label (its parts come back as new objects).
    #[export]
    pub fn relabel(kit: Kit, label: String) -> Kit {
        Kit { label, ..kit }
    }
}

/// `&dyn Fn(..)` parameters: the caller's functions borrowed for one call,
/// with arguments and results of any type that crosses.
pub mod fn_refs {
    use super::traits::{Event, ListenerError};
    use ffi_export::export;
    use std::cell::Cell;

    /// Calls `parse` on each word; the sum of what it returns.
    #[export]
    pub fn sum_parsed(
        text: &str,
        parse: &dyn Fn(&str) -> Result<i32, ListenerError>,
    ) -> Result<i32, ListenerError> {
        text.split_whitespace().map(parse).sum()
    }

    /// `describe` of an event per kind, in order, skipping `None`s.
    #[export]
    pub fn describe_events(
        kinds: Vec<String>,
        describe: &dyn Fn(Event) -> Option<String>,
    ) -> Vec<String> {
        kinds
            .into_iter()
            .enumerate()
            .filter_map(|(seq, kind)| {
                describe(Event {
                    kind,
                    seq: seq as u32,
                    tags: vec!["t".to_owned()],
                })
            })
            .collect()
    }

    /// Calls `visit` with each item, its index and the running total (a
    /// callback of three arguments and no result); the number of calls.
    #[export]
    pub fn visit_all(items: Vec<i64>, visit: &dyn Fn(Vec<i64>, u32, Option<i64>)) -> u32 {
        let count = Cell::new(0u32);
        let mut total = 0;
        for item in &items {
            total += item;
            visit(vec![*item; 2], count.get(), (total > 0).then_some(total));
            count.set(count.get() + 1);
        }
        count.get()
    }

    /// `f(f(x))`, the callback passed on to a Rust helper borrowing it.
    #[export]
    pub fn twice(x: String, f: &dyn Fn(String) -> String) -> String {
        fn apply(f: &dyn Fn(String) -> String, x: String) -> String {
            f(x)
        }
        apply(f, apply(f, x))
    }

    /// Two callbacks in one call, and a Rust value dropped when the call
    /// unwinds (`drops_seen` counts them).
    #[export]
    pub fn both(first: &dyn Fn() -> u8, second: &dyn Fn(u8) -> bool) -> bool {
        let _guard = CountDrop;
        second(first())
    }

    static DROPS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

    struct CountDrop;

    impl Drop for CountDrop {
        fn drop(&mut self) {
            DROPS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }

    /// `impl FnMut` by value: the running totals of `values` through `f`,
    /// `f` kept in a Rust `FnMut` adaptor.
    #[export]
    pub fn running(values: Vec<i64>, mut f: impl FnMut(i64, Option<String>) -> i64) -> Vec<i64> {
        let mut total = 0;
        values
            .into_iter()
            .map(|v| {
                total += v;
                f(total, (total % 2 == 0).then(|| "even".to_owned()))
            })
            .collect()
    }

    /// `impl Fn(&str)` by value, passed on to a generic Rust function.
    #[export]
    pub fn shout_each(words: Vec<String>, f: impl Fn(&str) -> String) -> String {
        fn each<F: Fn(&str) -> String>(words: &[String], f: F) -> Vec<String> {
            words.iter().map(|w| f(w)).collect()
        }
        each(&words, f).join(" ")
    }

    /// Calls `f` from `threads` Rust threads at once (`+ Sync` lets the
    /// borrowed callback cross to scoped threads); the results in order. A
    /// failed call's unwind is carried to this thread, so the caller's
    /// exception comes back as itself.
    #[export]
    pub fn on_threads(threads: u32, f: &(dyn Fn(u32) -> String + Sync)) -> Vec<String> {
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads).map(|i| scope.spawn(move || f(i))).collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect()
        })
    }

    /// How many `both` calls have ended, returned or unwound.
    #[export]
    pub fn drops_seen() -> u32 {
        DROPS.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// Trait objects and closures inside other values, both ways:
/// `Vec<Arc<dyn Listener>>`, `Option<Box<dyn Listener>>`, maps of stored
/// closures, record and enum fields of them, closures returned to the
/// caller (`tests/python/test_nested_traits.py`).
pub mod nested_traits {
    use super::traits::{Button, Event, Listener, ListenerError};
    use ffi_export::export;
    use std::collections::{BTreeMap, HashMap};
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::{Arc, Mutex};

    /// A stored closure of numbers.
    pub type Step = Box<dyn Fn(i64) -> i64 + Send + Sync>;

    fn event(kind: &str, seq: u32) -> Event {
        Event {
            kind: kind.to_owned(),
            seq,
            tags: Vec::new(),
        }
    }

    fn outcome(listener: &dyn Listener, kind: &str, seq: u32) -> String {
        match listener.on_event(event(kind, seq)) {
            Ok(()) => listener.name(),
            Err(ListenerError::Busy) => "busy".to_owned(),
            Err(ListenerError::Rejected { reason }) => format!("rejected: {reason}"),
        }
    }

    /// Hooks kept together: a record holding trait objects and a closure.
    #[export]
    pub struct Hooks {
        /// Its name.
        pub name: String,
        /// A listener, or none.
        pub listener: Option<Box<dyn Listener>>,
        /// Buttons shared with others.
        pub buttons: Vec<Arc<dyn Button>>,
        /// A closure applied to numbers, or none.
        pub step: Option<Step>,
    }

    /// Where events go: an enum whose variants hold trait objects.
    #[export]
    pub enum Route {
        /// Nowhere.
        Drop,
        /// To one listener.
        To(Arc<dyn Listener>),
        /// To each of these.
        Each {
            /// The listeners.
            listeners: Vec<Box<dyn Listener>>,
        },
    }

    /// Sends one event to each listener of the list; what each answered
    /// (its name, or its error).
    #[export]
    pub fn notify_all(listeners: Vec<Arc<dyn Listener>>, kind: String) -> Vec<String> {
        listeners
            .iter()
            .enumerate()
            .map(|(i, l)| outcome(&**l, &kind, i as u32))
            .collect()
    }

    /// Sends one event to the listener if there is one.
    #[export]
    pub fn maybe_notify(listener: Option<Box<dyn Listener>>, kind: String) -> Option<String> {
        listener.map(|l| outcome(&*l, &kind, 0))
    }

    /// Applies every named step to `x`.
    #[export]
    pub fn apply_steps(steps: HashMap<String, Step>, x: i64) -> BTreeMap<String, i64> {
        steps.iter().map(|(k, f)| (k.clone(), f(x))).collect()
    }

    /// `f(text)`, or `text` when there is no `f`.
    #[export]
    pub fn maybe_apply(
        f: Option<Box<dyn Fn(String) -> String + Send + Sync>>,
        text: String,
    ) -> String {
        f.map_or_else(|| text.clone(), |f| f(text.clone()))
    }

    /// The hooks handed back as they came (trait objects and closures
    /// included).
    #[export]
    pub fn hooks_echo(hooks: Hooks) -> Hooks {
        hooks
    }

    /// Calls what the hooks hold: the listener's answer, each button
    /// pressed once, the step of `x`.
    #[export]
    pub fn run_hooks(hooks: Hooks, x: i64) -> (Option<String>, Vec<String>, Option<i64>) {
        (
            hooks
                .listener
                .as_deref()
                .map(|l| outcome(l, &hooks.name, 0)),
            hooks.buttons.iter().map(|b| b.press(1)).collect(),
            hooks.step.as_ref().map(|f| f(x)),
        )
    }

    /// Hooks made in Rust: a Rust button and a Rust step adding `n`.
    #[export]
    pub fn hooks_from_rust(n: i64) -> Hooks {
        Hooks {
            name: "rust".to_owned(),
            listener: None,
            buttons: vec![super::traits::make_button(format!("b{n}")).into()],
            step: Some(adder(n)),
        }
    }

    /// The route handed back as it came.
    #[export]
    pub fn route_echo(route: Route) -> Route {
        route
    }

    /// Delivers one event along the route; the answers.
    #[export]
    pub fn deliver(route: Route, kind: String) -> Vec<String> {
        match route {
            Route::Drop => Vec::new(),
            Route::To(l) => vec![outcome(&*l, &kind, 0)],
            Route::Each { listeners } => {
                listeners.iter().map(|l| outcome(&**l, &kind, 0)).collect()
            }
        }
    }

    /// A closure adding `n`, made in Rust and handed to the caller.
    #[export]
    pub fn adder(n: i64) -> Step {
        Box::new(move |x| x + n)
    }

    /// Closures made in Rust, by name.
    #[export]
    pub fn named_steps() -> HashMap<String, Step> {
        let mut steps: HashMap<String, Step> = HashMap::new();
        steps.insert("double".to_owned(), Box::new(|x| x * 2));
        steps.insert("negate".to_owned(), Box::new(|x| -x));
        steps
    }

    /// A closure refusing values above `limit` with a typed error.
    #[export]
    pub fn checker(limit: i64) -> Arc<dyn Fn(i64) -> Result<i64, ListenerError> + Send + Sync> {
        Arc::new(move |x| {
            if x > limit {
                Err(ListenerError::Rejected {
                    reason: format!("{x} > {limit}"),
                })
            } else {
                Ok(x)
            }
        })
    }

    /// A closure that panics on 0.
    #[export]
    pub fn divider(n: u32) -> Option<Box<dyn Fn(u32) -> u32 + Send + Sync>> {
        Some(Box::new(move |d| {
            if d == 0 {
                panic!("division of {n} by zero");
            }
            n / d
        }))
    }

    /// `g(f(x))` as a new closure (`f` and `g` may be the caller's).
    #[export]
    pub fn compose(f: Step, g: Step) -> Step {
        Box::new(move |x| g(f(x)))
    }

    static LIVE_CLOSURES: AtomicU32 = AtomicU32::new(0);

    /// Counts the closures alive that hold one.
    struct Alive;

    impl Alive {
        fn new() -> Alive {
            LIVE_CLOSURES.fetch_add(1, Ordering::SeqCst);
            Alive
        }
    }

    impl Drop for Alive {
        fn drop(&mut self) {
            LIVE_CLOSURES.fetch_sub(1, Ordering::SeqCst);
        }
    }

    /// A closure adding `n` that counts itself alive (`live_closures`).
    #[export]
    pub fn counted_adder(n: i64) -> Step {
        let alive = Alive::new();
        Box::new(move |x| {
            let _ = &alive;
            x + n
        })
    }

    /// Closures of `counted_adder` alive now.
    #[export]
    pub fn live_closures() -> u32 {
        LIVE_CLOSURES.load(Ordering::SeqCst)
    }

    /// A closure of text, made in Rust.
    #[export]
    pub fn greeter(greeting: String) -> Box<dyn Fn(String) -> String + Send + Sync> {
        Box::new(move |name| format!("{greeting}, {name}"))
    }

    /// The closure handed back as it came.
    #[export]
    pub fn step_echo(
        f: Arc<dyn Fn(i64) -> i64 + Send + Sync>,
    ) -> Arc<dyn Fn(i64) -> i64 + Send + Sync> {
        f
    }

    /// The button handed back as it came.
    #[export]
    pub fn button_echo(button: Box<dyn Button>) -> Box<dyn Button> {
        button
    }

    /// Presses each button once.
    #[export]
    pub fn press_all(buttons: Vec<Box<dyn Button>>) -> Vec<String> {
        buttons.iter().map(|b| b.press(1)).collect()
    }

    /// Makes buttons: implemented in Python or in Rust.
    #[export]
    pub trait Factory: Send + Sync {
        /// A button labelled `label`.
        fn make(&self, label: String) -> Box<dyn Button>;
        /// Buttons, if it has any.
        fn all(&self) -> Option<Vec<Arc<dyn Button>>>;
        /// Told about buttons Rust made.
        fn adopt(&self, buttons: Vec<Arc<dyn Button>>) -> u32;
    }

    /// Asks the factory for a button and for all of its buttons, tells it
    /// about two Rust buttons; the labels it saw pressed.
    #[export]
    pub fn use_factory(factory: Box<dyn Factory>) -> Vec<String> {
        let mut seen = vec![factory.make("made".to_owned()).press(1)];
        seen.extend(factory.all().unwrap_or_default().iter().map(|b| b.label()));
        let adopted = factory.adopt(vec![
            super::traits::make_button("r1".to_owned()).into(),
            super::traits::make_button("r2".to_owned()).into(),
        ]);
        seen.push(format!("adopted {adopted}"));
        seen
    }

    /// Listeners kept in a list, called from Rust threads.
    #[derive(Default)]
    pub struct Panel {
        listeners: Mutex<Vec<Arc<dyn Listener>>>,
    }

    #[export]
    impl Panel {
        /// An empty panel.
        pub fn new() -> Panel {
            Panel::default()
        }
        /// Keeps every listener of the list; how many it keeps now.
        pub fn add_all(&mut self, listeners: Vec<Arc<dyn Listener>>) -> u32 {
            let mut kept = self.listeners.lock().unwrap_or_else(|e| e.into_inner());
            kept.extend(listeners);
            kept.len() as u32
        }
        /// The listeners it keeps, in order.
        pub fn listeners(&self) -> Vec<Arc<dyn Listener>> {
            self.listeners
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone()
        }
        /// The first listener, if any.
        pub fn first(&self) -> Option<Arc<dyn Listener>> {
            self.listeners
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .first()
                .cloned()
        }
        /// Forgets every listener.
        pub fn clear(&mut self) {
            self.listeners
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clear();
        }
        /// Sends `count` events to every listener from `threads` Rust
        /// threads at once; how many calls succeeded.
        pub fn publish_from_threads(&self, threads: u32, count: u32) -> u32 {
            let listeners = self.listeners();
            let ok = Arc::new(AtomicU32::new(0));
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    let listeners = listeners.clone();
                    let ok = ok.clone();
                    std::thread::spawn(move || {
                        for i in 0..count {
                            for l in &listeners {
                                if l.on_event(event(&format!("t{t}"), i)).is_ok() {
                                    ok.fetch_add(1, Ordering::SeqCst);
                                }
                            }
                        }
                    })
                })
                .collect();
            for h in handles {
                let _ = h.join();
            }
            ok.load(Ordering::SeqCst)
        }
    }
}

/// Rust traits become Python protocols: `#[export(Display, Eq, Hash, ..)]`
/// on records, enums and objects, operators, `len()` and `bool()`.
pub mod protocols {
    use ffi_export::export;
    use std::cmp::Ordering;
    use std::fmt;
    use std::sync::atomic::{AtomicUsize, Ordering as Atomic};

    /// A version whose order is not its fields' (a pre-release, with a
    /// label, sorts before the release): `sorted()` in Python must follow
    /// this `Ord`, not a field tuple.
    #[export(Display, Debug, Eq, Hash, Ord, Default)]
    #[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
    pub struct Version {
        pub major: u32,
        pub minor: u32,
        pub patch: u32,
        pub label: String,
    }

    impl fmt::Display for Version {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "{}.{}.{}", self.major, self.minor, self.patch)?;
            match self.label.as_str() {
                "" => Ok(()),
                label => write!(f, "-{label}"),
            }
        }
    }

    impl Ord for Version {
        fn cmp(&self, other: &Self) -> Ordering {
            (self.major, self.minor, self.patch)
                .cmp(&(other.major, other.minor, other.patch))
                .then_with(|| match (self.label.is_empty(), other.label.is_empty()) {
                    (true, true) => Ordering::Equal,
                    (true, false) => Ordering::Greater,
                    (false, true) => Ordering::Less,
                    (false, false) => self.label.cmp(&other.label),
                })
        }
    }

    impl PartialOrd for Version {
        fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
            Some(self.cmp(other))
        }
    }

    /// `versions` sorted by Rust's `Ord`.
    #[export]
    pub fn sort_versions(mut versions: Vec<Version>) -> Vec<Version> {
        versions.sort();
        versions
    }

    /// Rust's hash of a version (what Python's `hash()` gives too).
    #[export]
    pub fn version_hash(version: &Version) -> u64 {
        ffi_export::__private::protocol::hash(version)
    }

    /// A record without opt-ins: compares by field value, unhashable.
    #[export]
    #[derive(Clone, Debug, PartialEq)]
    pub struct Plain {
        pub a: i32,
    }

    /// A 2-D vector: arithmetic, a partial order with NaN.
    #[export(Debug, PartialEq, PartialOrd, Add, Sub, Mul, Div, Neg)]
    #[derive(Clone, Copy, Debug, PartialEq, PartialOrd)]
    pub struct Vec2 {
        pub x: f64,
        pub y: f64,
    }

    impl std::ops::Add for Vec2 {
        type Output = Vec2;
        fn add(self, o: Vec2) -> Vec2 {
            Vec2 {
                x: self.x + o.x,
                y: self.y + o.y,
            }
        }
    }

    impl std::ops::Sub for Vec2 {
        type Output = Vec2;
        fn sub(self, o: Vec2) -> Vec2 {
            Vec2 {
                x: self.x - o.x,
                y: self.y - o.y,
            }
        }
    }

    impl std::ops::Mul for Vec2 {
        type Output = f64;
        /// The dot product: an `Output` of another type.
        fn mul(self, o: Vec2) -> f64 {
            self.x * o.x + self.y * o.y
        }
    }

    impl std::ops::Div for Vec2 {
        type Output = Vec2;
        fn div(self, o: Vec2) -> Vec2 {
            Vec2 {
                x: self.x / o.x,
                y: self.y / o.y,
            }
        }
    }

    impl std::ops::Neg for Vec2 {
        type Output = Vec2;
        fn neg(self) -> Vec2 {
            Vec2 {
                x: -self.x,
                y: -self.y,
            }
        }
    }

    /// An enum with data: printed, compared, hashed and sorted by Rust.
    #[export(Display, Debug, Eq, Hash, Ord)]
    #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub enum Token {
        Number { value: i64 },
        Word { text: String },
        End,
    }

    impl fmt::Display for Token {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                Token::Number { value } => write!(f, "#{value}"),
                Token::Word { text } => write!(f, "'{text}'"),
                Token::End => write!(f, "<end>"),
            }
        }
    }

    /// `tokens` sorted by Rust's `Ord`.
    #[export]
    pub fn sort_tokens(mut tokens: Vec<Token>) -> Vec<Token> {
        tokens.sort();
        tokens
    }

    /// A field-less enum: `str()` from `Display`, `Suit.default()`.
    #[export(Display, Default)]
    #[derive(Clone, Copy, Default)]
    pub enum Suit {
        Clubs,
        #[default]
        Hearts,
    }

    impl fmt::Display for Suit {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(match self {
                Suit::Clubs => "♣",
                Suit::Hearts => "♥",
            })
        }
    }

    static LIVE_BAGS: AtomicUsize = AtomicUsize::new(0);

    /// A list of words held by handle: every protocol, `len()` and
    /// `bool()`, `+` of two bags (`&Bag + &Bag`), `bag[i]`.
    #[derive(Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub struct Bag {
        words: Vec<String>,
    }

    impl Bag {
        fn of(words: Vec<String>) -> Bag {
            LIVE_BAGS.fetch_add(1, Atomic::SeqCst);
            Bag { words }
        }
    }

    impl Drop for Bag {
        fn drop(&mut self) {
            LIVE_BAGS.fetch_sub(1, Atomic::SeqCst);
        }
    }

    impl Clone for Bag {
        fn clone(&self) -> Bag {
            Bag::of(self.words.clone())
        }
    }

    impl Default for Bag {
        fn default() -> Bag {
            Bag::of(Vec::new())
        }
    }

    impl fmt::Display for Bag {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "{{{}}}", self.words.join(" "))
        }
    }

    impl std::ops::Index<usize> for Bag {
        type Output = String;
        fn index(&self, index: usize) -> &String {
            &self.words[index]
        }
    }

    impl std::ops::Add for &Bag {
        type Output = Bag;
        fn add(self, other: &Bag) -> Bag {
            Bag::of(self.words.iter().chain(&other.words).cloned().collect())
        }
    }

    #[export(Display, Debug, Eq, Hash, Ord, Clone, Default, Add, Index<usize>)]
    impl Bag {
        /// A bag of `words`.
        pub fn new(words: Vec<String>) -> Bag {
            Bag::of(words)
        }

        /// Adds a word.
        pub fn push(&mut self, word: &str) {
            self.words.push(word.to_owned());
        }

        /// The words.
        pub fn words(&self) -> Vec<String> {
            self.words.clone()
        }

        /// How many words: Python's `len()`.
        #[export(len)]
        pub fn len(&self) -> usize {
            self.words.len()
        }

        /// Whether it holds no word.
        pub fn is_empty(&self) -> bool {
            self.words.is_empty()
        }

        /// Whether it holds a word: Python's `bool()`.
        #[export(bool)]
        pub fn has_words(&self) -> bool {
            !self.words.is_empty()
        }
    }

    /// Live `Bag`s (copies from `copy.copy` and `+` included).
    #[export]
    pub fn live_bags() -> usize {
        LIVE_BAGS.load(Atomic::SeqCst)
    }

    /// An object whose protocols panic when it is armed.
    pub struct Grenade {
        armed: bool,
    }

    impl Grenade {
        fn check(&self) {
            if self.armed {
                panic!("boom");
            }
        }
    }

    impl fmt::Display for Grenade {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            self.check();
            f.write_str("grenade")
        }
    }

    impl fmt::Debug for Grenade {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            self.check();
            f.write_str("Grenade")
        }
    }

    impl PartialEq for Grenade {
        fn eq(&self, other: &Grenade) -> bool {
            self.check();
            self.armed == other.armed
        }
    }

    impl Eq for Grenade {}

    impl std::hash::Hash for Grenade {
        fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
            self.check();
            self.armed.hash(state);
        }
    }

    #[export(Display, Debug, Eq, Hash)]
    impl Grenade {
        /// A grenade, `armed` or not.
        pub fn new(armed: bool) -> Grenade {
            Grenade { armed }
        }
    }

    /// Equality without `Hash`: Python makes it unhashable.
    #[derive(PartialEq)]
    pub struct Cell {
        value: i64,
    }

    #[export(PartialEq)]
    impl Cell {
        /// A cell holding `value`.
        pub fn new(value: i64) -> Cell {
            Cell { value }
        }

        /// Sets the value.
        pub fn set(&mut self, value: i64) {
            self.value = value;
        }
    }
}

/// Issue 14's native paths: `#[export(keep_gil)]` functions (the Python
/// call keeps the GIL held), each beside its default twin (the GIL
/// released), so both can be compared on both call paths.
pub mod native_paths {
    use ffi_export::export;
    use std::collections::HashMap;
    use std::time::Duration;

    /// What the kept functions fail with.
    #[derive(Debug, thiserror::Error)]
    #[error("{0} is negative")]
    pub struct Negative(pub i64);

    /// Sleeps `ms` milliseconds with the GIL kept: no other Python thread
    /// runs meanwhile. Returns `ms`.
    #[export(keep_gil)]
    pub fn hold_gil_kept(ms: u64) -> u64 {
        std::thread::sleep(Duration::from_millis(ms));
        ms
    }

    /// Sleeps `ms` milliseconds, the GIL released (the default).
    #[export]
    pub fn hold_gil_released(ms: u64) -> u64 {
        std::thread::sleep(Duration::from_millis(ms));
        ms
    }

    /// `a + b`, refusing overflow (panics), GIL kept.
    #[export(keep_gil)]
    pub fn kept_add(a: i64, b: i64) -> i64 {
        a.checked_add(b).expect("overflow")
    }

    /// `a + b`, refusing overflow (panics).
    #[export]
    pub fn released_add(a: i64, b: i64) -> i64 {
        a.checked_add(b).expect("overflow")
    }

    /// The square root of `x`, refusing negatives, GIL kept.
    #[export(keep_gil)]
    pub fn kept_root(x: i64) -> Result<f64, Negative> {
        if x < 0 {
            return Err(Negative(x));
        }
        Ok((x as f64).sqrt())
    }

    /// The square root of `x`, refusing negatives.
    #[export]
    pub fn released_root(x: i64) -> Result<f64, Negative> {
        if x < 0 {
            return Err(Negative(x));
        }
        Ok((x as f64).sqrt())
    }

    /// `text` upper-cased `times` times over, GIL kept.
    #[export(keep_gil)]
    pub fn kept_shout(text: &str, times: u8) -> String {
        text.to_uppercase().repeat(usize::from(times))
    }

    /// `text` upper-cased `times` times over.
    #[export]
    pub fn released_shout(text: &str, times: u8) -> String {
        text.to_uppercase().repeat(usize::from(times))
    }

    /// The sum of `values` scaled by the optional `scale`, GIL kept.
    #[export(keep_gil)]
    pub fn kept_sum(values: &[f64], scale: Option<f64>) -> f64 {
        values.iter().sum::<f64>() * scale.unwrap_or(1.0)
    }

    /// The sum of `values` scaled by the optional `scale`.
    #[export]
    pub fn released_sum(values: &[f64], scale: Option<f64>) -> f64 {
        values.iter().sum::<f64>() * scale.unwrap_or(1.0)
    }

    /// The total of the counts per key, GIL kept (owned parameters).
    #[export(keep_gil)]
    pub fn kept_total(counts: HashMap<String, u32>, extra: Vec<u32>) -> u64 {
        counts.values().chain(&extra).map(|&n| u64::from(n)).sum()
    }

    /// The total of the counts per key.
    #[export]
    pub fn released_total(counts: HashMap<String, u32>, extra: Vec<u32>) -> u64 {
        counts.values().chain(&extra).map(|&n| u64::from(n)).sum()
    }

    /// `n` halves of 1.0, GIL kept: a result the fast path does not build
    /// (a `Vec`), so the call goes through ctypes, still keeping the GIL.
    #[export(keep_gil)]
    pub fn kept_halves(n: u32) -> Vec<f64> {
        (0..n).map(|i| 0.5f64.powi(i as i32)).collect()
    }

    /// `n` halves of 1.0.
    #[export]
    pub fn released_halves(n: u32) -> Vec<f64> {
        (0..n).map(|i| 0.5f64.powi(i as i32)).collect()
    }

    /// `f(f(x))`, GIL kept (a `Callback` runs on the calling thread).
    #[export(keep_gil)]
    pub fn kept_twice(x: f64, f: ffi_export::Callback<fn(f64) -> f64>) -> f64 {
        f.call(f.call(x))
    }

    /// `f(f(x))`.
    #[export]
    pub fn released_twice(x: f64, f: ffi_export::Callback<fn(f64) -> f64>) -> f64 {
        f.call(f.call(x))
    }

    /// Calls of `steady_double`, since the last `batch_calls`.
    static BATCH_CALLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    /// How many times `steady_double` ran since the last call of this
    /// (which resets the count).
    #[export]
    pub fn batch_calls() -> u64 {
        BATCH_CALLS.swap(0, std::sync::atomic::Ordering::SeqCst)
    }

    /// `2 x`; panics on 7777.
    #[export(batch)]
    pub fn steady_double(x: i64) -> i64 {
        BATCH_CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        assert!(x != 7777, "bad {x}");
        x.wrapping_mul(2)
    }

    /// A running total: methods of primitives and strings, with defaults,
    /// called natively (the native function is the class attribute).
    pub struct Meter {
        total: i64,
        name: String,
    }

    #[export]
    impl Meter {
        /// A meter at `start`.
        pub fn new(start: i64, name: &str) -> Meter {
            Meter {
                total: start,
                name: name.to_owned(),
            }
        }

        /// Adds `by` `times` times; the new total. Negative `by` is an
        /// error, overflow a panic.
        pub fn add(&mut self, by: i64, #[ffi(default = 1)] times: i64) -> Result<i64, Negative> {
            if by < 0 {
                return Err(Negative(by));
            }
            self.total = by
                .checked_mul(times)
                .and_then(|n| self.total.checked_add(n))
                .expect("overflow");
            Ok(self.total)
        }

        /// The total.
        pub fn total(&self) -> i64 {
            self.total
        }

        /// `prefix`, the name and `end`.
        pub fn label(&self, prefix: &str, #[ffi(default = "!")] end: &str) -> String {
            format!("{prefix}{}{end}", self.name)
        }
    }
}

pub mod native_records {
    //! Records the CPython fast path reads and builds itself (issue 14):
    //! every field kind it handles, nested, in `Option`/`Vec`, by value and
    //! by reference, with errors; and one it cannot build (a number
    //! vector), which keeps the ctypes path.

    use ffi_export::export;

    /// A sensor reading: every field kind the fast path builds.
    #[export]
    #[derive(Debug, Clone, PartialEq)]
    pub struct Reading {
        /// Which sensor.
        pub sensor: String,
        /// The value.
        pub value: f64,
        /// How many samples.
        pub count: u32,
        /// Whether it is trusted.
        pub ok: bool,
        /// A note, if any.
        pub note: Option<String>,
        /// The alarm limit, if any.
        pub limit: Option<i64>,
        /// Labels.
        pub labels: Vec<String>,
    }

    /// Two readings (a record of records).
    #[export]
    #[derive(Debug, Clone, PartialEq)]
    pub struct Span {
        /// The first.
        pub start: Reading,
        /// The last.
        pub end: Reading,
    }

    /// A record with number vectors: a `list` of numbers each (`bytes`
    /// for `Vec<u8>`), where a `Vec<f64>` returned alone is an array.
    #[export]
    #[derive(Debug, Clone, PartialEq)]
    pub struct Samples {
        /// The name.
        pub name: String,
        /// The values.
        pub values: Vec<f64>,
        /// Raw bytes.
        pub raw: Vec<u8>,
        /// Flags.
        pub flags: Vec<bool>,
        /// Counts.
        pub counts: Vec<i16>,
    }

    /// A reading of `sensor`; `count` 0 panics, a negative value is an `Err`.
    #[export]
    pub fn make_reading(sensor: &str, value: f64, count: u32) -> Result<Reading, String> {
        assert!(count > 0, "no samples for {sensor}");
        if value < 0.0 {
            return Err(format!("{sensor}: negative value {value}"));
        }
        Ok(Reading {
            sensor: sensor.to_owned(),
            value,
            count,
            ok: count > 2,
            note: (count > 5).then(|| format!("{count} samples")),
            limit: (value > 10.0).then_some(value as i64 * 2),
            labels: (0..count.min(3)).map(|i| format!("l{i}")).collect(),
        })
    }

    /// One line about a reading (borrowed).
    #[export]
    pub fn describe_reading(reading: &Reading) -> String {
        format!("{reading:?}")
    }

    /// The reading, counted once more (by value in and out).
    #[export]
    pub fn recount(mut reading: Reading) -> Reading {
        reading.count += 1;
        reading.labels.push(format!("c{}", reading.count));
        reading
    }

    /// The span from `start` to `end`.
    #[export]
    pub fn span(start: Reading, end: Reading) -> Span {
        Span { start, end }
    }

    /// How far a span goes.
    #[export]
    pub fn span_width(span: &Span) -> f64 {
        span.end.value - span.start.value
    }

    /// The value of a reading, if there is one.
    #[export]
    pub fn reading_value(reading: Option<Reading>) -> Option<f64> {
        reading.map(|r| r.value)
    }

    /// A reading, or none.
    #[export]
    pub fn maybe_reading(some: bool) -> Option<Reading> {
        some.then(|| Reading {
            sensor: "maybe".to_owned(),
            value: 1.0,
            count: 1,
            ok: false,
            note: None,
            limit: None,
            labels: Vec::new(),
        })
    }

    /// `n` readings.
    #[export]
    pub fn readings(n: u32) -> Vec<Reading> {
        (1..=n)
            .map(|i| {
                make_reading(&format!("s{i}"), f64::from(i), i).unwrap_or_else(|e| panic!("{e}"))
            })
            .collect()
    }

    /// The total of the readings' values.
    #[export]
    pub fn total_value(readings: Vec<Reading>) -> f64 {
        readings.iter().map(|r| r.value).sum()
    }

    /// Samples named `name`.
    #[export]
    pub fn samples(name: &str, n: u32) -> Samples {
        Samples {
            name: name.to_owned(),
            values: (0..n).map(f64::from).collect(),
            raw: (0..n).map(|i| i as u8).collect(),
            flags: (0..n).map(|i| i % 2 == 0).collect(),
            counts: (0..n).map(|i| -(i as i16)).collect(),
        }
    }

    /// The sum of the samples (and of the other vectors).
    #[export]
    pub fn samples_sum(samples: &Samples) -> f64 {
        samples.values.iter().sum::<f64>()
            + samples.raw.iter().map(|&b| f64::from(b)).sum::<f64>()
            + samples.flags.iter().filter(|&&f| f).count() as f64
            + samples.counts.iter().map(|&c| f64::from(c)).sum::<f64>()
    }

    /// Mutually recursive records, one of which has a field the fast path
    /// does not build (a map): neither is built natively.
    #[export]
    #[derive(Debug, Clone, PartialEq)]
    pub struct Folder {
        /// The files.
        pub files: Vec<File>,
        /// Sizes by name (no native form as a result).
        pub sizes: std::collections::BTreeMap<String, u32>,
    }

    /// See [`Folder`].
    #[export]
    #[derive(Debug, Clone, PartialEq)]
    pub struct File {
        /// Its name.
        pub name: String,
        /// Folders inside it (an archive).
        pub inside: Vec<Folder>,
    }

    /// A folder (asked about first, exports being taken by name: its answer
    /// is computed while `File`'s depends on it).
    #[export]
    pub fn folder(name: &str) -> Folder {
        Folder {
            files: vec![make_file(name)],
            sizes: [(name.to_owned(), 1)].into(),
        }
    }

    /// A file holding an empty folder.
    #[export]
    pub fn make_file(name: &str) -> File {
        File {
            name: name.to_owned(),
            inside: vec![Folder {
                files: Vec::new(),
                sizes: Default::default(),
            }],
        }
    }

    /// The samples' raw bytes alone (a `Vec<u8>` result: `bytes`).
    #[export]
    pub fn samples_raw(samples: Samples) -> Vec<u8> {
        samples.raw
    }

    /// The samples' flags alone (a `Vec<bool>` result: an array, built by
    /// the ctypes path).
    #[export]
    pub fn samples_flags(samples: Samples) -> Vec<bool> {
        samples.flags
    }
}

/// Iterators, properties and records as values: `impl Iterator` and
/// `Box<dyn Iterator>` results, `#[export(getter)]`/`#[export(setter)]`
/// methods, `match`, pickling and annotations of records.
pub mod values {
    use ffi_export::export;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Iterators made and not yet dropped (each `Counted` once).
    static LIVE_ITERATORS: AtomicUsize = AtomicUsize::new(0);

    /// An iterator counted while alive, so tests see it dropped once.
    struct Counted<I>(I);

    impl<I> Counted<I> {
        fn new(inner: I) -> Counted<I> {
            LIVE_ITERATORS.fetch_add(1, Ordering::SeqCst);
            Counted(inner)
        }
    }

    /// Items the `Counted` iterators handed out (for laziness checks).
    static PULLED: AtomicUsize = AtomicUsize::new(0);

    impl<I: Iterator> Iterator for Counted<I> {
        type Item = I::Item;
        fn next(&mut self) -> Option<I::Item> {
            PULLED.fetch_add(1, Ordering::SeqCst);
            self.0.next()
        }
    }

    /// How many times Rust's `next` ran on the test iterators so far.
    #[export]
    pub fn pulled() -> usize {
        PULLED.load(Ordering::SeqCst)
    }

    impl<I> Drop for Counted<I> {
        fn drop(&mut self) {
            LIVE_ITERATORS.fetch_sub(1, Ordering::SeqCst);
        }
    }

    /// How many iterators are alive in Rust.
    #[export]
    pub fn live_iterators() -> usize {
        LIVE_ITERATORS.load(Ordering::SeqCst)
    }

    /// `0..n`, one at a time.
    #[export]
    pub fn count_up(n: u64) -> impl Iterator<Item = u64> {
        Counted::new(0..n)
    }

    /// `0..n` at once (the benchmark's peer of `count_up`).
    #[export]
    pub fn count_vec(n: u64) -> Vec<u64> {
        (0..n).collect()
    }

    /// `"w0" .. "w{n-1}"`, boxed.
    #[export]
    pub fn numbered_words(n: u32) -> Box<dyn Iterator<Item = String> + Send> {
        Box::new(Counted::new((0..n).map(|i| format!("w{i}"))))
    }

    /// `f(0), f(1), ..., f(n - 1)`, calling the caller's `f` (a stored
    /// closure) inside `next`.
    #[export]
    pub fn mapped(n: u32, f: Box<dyn Fn(u32) -> u32 + Send + Sync>) -> impl Iterator<Item = u32> {
        Counted::new((0..n).map(f))
    }

    /// `n, n - 1, .., 1`, or an error (and no iterator) when `n` is over
    /// 100: a fallible call returning an iterator.
    #[export]
    pub fn countdown(n: u32) -> Result<impl Iterator<Item = u32>, String> {
        if n > 100 {
            return Err(format!("{n} is too many"));
        }
        Ok(Counted::new((1..=n).rev()))
    }

    /// Items that panic at `at`.
    #[export]
    pub fn explode_at(at: u32) -> impl Iterator<Item = u32> {
        Counted::new((0..).inspect(move |&i| {
            if i == at {
                panic!("item {i} exploded");
            }
        }))
    }

    /// Why a track cannot be played.
    #[export]
    #[derive(Debug, thiserror::Error)]
    pub enum TrackError {
        /// Longer than the limit.
        #[error("track {title} is too long: {seconds} s")]
        TooLong { title: String, seconds: u32 },
        /// No song is longer than asked.
        #[error("no song is longer than {seconds} s")]
        Missing { seconds: u32 },
    }

    /// A song.
    #[export]
    #[derive(Clone, Debug, PartialEq)]
    pub struct Song {
        pub title: String,
        pub seconds: u32,
    }

    /// A list of songs, living in Rust.
    pub struct Playlist {
        title: String,
        songs: Vec<Song>,
        volume: u8,
    }

    #[export]
    impl Playlist {
        /// An empty playlist.
        pub fn new(title: &str) -> Playlist {
            Playlist {
                title: title.to_owned(),
                songs: Vec::new(),
                volume: 50,
            }
        }

        /// Adds a song.
        pub fn add(&mut self, title: &str, seconds: u32) {
            self.songs.push(Song {
                title: title.to_owned(),
                seconds,
            });
        }

        /// The songs (copies: the iterator owns them).
        pub fn songs(&self) -> impl Iterator<Item = Song> {
            Counted::new(self.songs.clone().into_iter())
        }

        /// Each song's length.
        pub fn lengths(&self) -> impl Iterator<Item = u32> + Send + 'static {
            Counted::new(
                self.songs
                    .iter()
                    .map(|s| s.seconds)
                    .collect::<Vec<_>>()
                    .into_iter(),
            )
        }

        /// Each song's length, or an error at the first one over `limit`.
        pub fn checked(&self, limit: u32) -> impl Iterator<Item = Result<u32, TrackError>> {
            let songs = self.songs.clone();
            Counted::new(songs.into_iter().map(move |song| {
                if song.seconds > limit {
                    Err(TrackError::TooLong {
                        title: song.title,
                        seconds: song.seconds,
                    })
                } else {
                    Ok(song.seconds)
                }
            }))
        }

        /// The playlist's title.
        #[export(getter)]
        pub fn title(&self) -> String {
            self.title.clone()
        }

        /// Renames the playlist.
        #[export(setter)]
        pub fn set_title(&mut self, title: String) {
            self.title = title;
        }

        /// The volume, 0 to 100.
        #[export(getter)]
        pub fn volume(&self) -> u8 {
            self.volume
        }

        /// Sets the volume; over 100 is an error.
        #[export(setter)]
        pub fn set_volume(&mut self, volume: u8) -> Result<(), String> {
            if volume > 100 {
                return Err(format!("volume {volume} is over 100"));
            }
            self.volume = volume;
            Ok(())
        }

        /// The total length in seconds (read-only).
        #[export(getter)]
        pub fn seconds(&self) -> u32 {
            self.songs.iter().map(|s| s.seconds).sum()
        }

        /// The longest song, if any (a record property).
        #[export(getter)]
        pub fn longest(&self) -> Option<Song> {
            self.songs.iter().max_by_key(|s| s.seconds).cloned()
        }

        /// The songs longer than `seconds`, or `TrackError::TooLong`'s
        /// sibling error when there are none (a fallible call returning a
        /// boxed iterator of records, with a typed error).
        pub fn longer_than(
            &self,
            seconds: u32,
        ) -> Result<Box<dyn Iterator<Item = Song> + Send>, TrackError> {
            let songs: Vec<Song> = self
                .songs
                .iter()
                .filter(|s| s.seconds > seconds)
                .cloned()
                .collect();
            if songs.is_empty() {
                return Err(TrackError::Missing { seconds });
            }
            Ok(Box::new(Counted::new(songs.into_iter())))
        }

        /// The songs' titles, an error in the middle (`String` errors).
        pub fn titles_or(
            &self,
            bad: &str,
        ) -> Box<dyn Iterator<Item = Result<String, String>> + Send> {
            let bad = bad.to_owned();
            let titles: Vec<String> = self.songs.iter().map(|s| s.title.clone()).collect();
            Box::new(Counted::new(titles.into_iter().map(move |t| {
                if t == bad {
                    Err(format!("{t} is banned"))
                } else {
                    Ok(t)
                }
            })))
        }
    }

    /// A music genre.
    #[export]
    #[derive(Clone, Copy, Debug, PartialEq)]
    pub enum Genre {
        Jazz,
        Rock,
    }

    /// What a track is: an enum with data, for `match`.
    #[export]
    #[derive(Clone, Debug, PartialEq)]
    pub enum Track {
        Song { song: Song, genre: Genre },
        Pause(u32),
        Silence,
    }

    /// A record of records: nested values, for pickling.
    #[export]
    #[derive(Clone, Debug, PartialEq)]
    pub struct Album {
        pub name: String,
        pub tracks: Vec<Track>,
        pub best: Option<Song>,
        pub ratings: std::collections::BTreeMap<String, f64>,
    }

    /// An album's length in seconds (it crossed back into Rust whole).
    #[export]
    pub fn album_seconds(album: Album) -> u32 {
        album
            .tracks
            .iter()
            .map(|track| match track {
                Track::Song { song, .. } => song.seconds,
                Track::Pause(seconds) => *seconds,
                Track::Silence => 0,
            })
            .sum()
    }

    /// A record holding an object: it cannot be pickled.
    #[export]
    pub struct Jukebox {
        pub label: String,
        pub playlist: Playlist,
    }

    /// A shelf for `playlist`.
    #[export]
    pub fn shelve(label: String, playlist: Playlist) -> Jukebox {
        Jukebox { label, playlist }
    }
}

pub mod native_objects {
    //! An object the CPython fast path makes, constructs and finalizes
    //! itself (issue 14): a failing constructor with a default, methods and
    //! functions returning objects (alone and in an `Option`), a `Drop`
    //! that can panic, and a live-instance counter.

    use ffi_export::export;
    use std::sync::atomic::{AtomicUsize, Ordering};

    static LIVE: AtomicUsize = AtomicUsize::new(0);

    /// A gadget of some size.
    pub struct Gadget {
        size: u32,
        name: String,
        panic_on_drop: bool,
    }

    impl Drop for Gadget {
        fn drop(&mut self) {
            LIVE.fetch_sub(1, Ordering::SeqCst);
            if self.panic_on_drop {
                panic!("gadget {} dropped with a panic", self.name);
            }
        }
    }

    fn gadget(size: u32, name: &str, panic_on_drop: bool) -> Gadget {
        LIVE.fetch_add(1, Ordering::SeqCst);
        Gadget {
            size,
            name: name.to_owned(),
            panic_on_drop,
        }
    }

    /// A gadget, made and dropped natively.
    #[export]
    impl Gadget {
        /// A gadget of `size` (0 is an error); `panic_on_drop` makes its
        /// `Drop` panic.
        pub fn new(
            size: u32,
            name: &str,
            #[ffi(default = false)] panic_on_drop: bool,
        ) -> Result<Gadget, String> {
            if size == 0 {
                return Err(format!("gadget {name}: size must be positive"));
            }
            Ok(gadget(size, name, panic_on_drop))
        }

        /// Its size.
        pub fn size(&self) -> u32 {
            self.size
        }

        /// Its name.
        pub fn name(&self) -> String {
            self.name.clone()
        }

        /// A copy `by` larger.
        pub fn grown(&self, by: u32) -> Gadget {
            gadget(self.size + by, &self.name, false)
        }

        /// A gadget of `size`, none for 0.
        pub fn maybe(size: u32) -> Option<Gadget> {
            (size > 0).then(|| gadget(size, "maybe", false))
        }

        /// How many gadgets are alive.
        pub fn live() -> usize {
            LIVE.load(Ordering::SeqCst)
        }
    }

    /// A gadget of `size`, from a free function.
    #[export]
    pub fn make_gadget(size: u32) -> Gadget {
        gadget(size, "made", false)
    }
}
