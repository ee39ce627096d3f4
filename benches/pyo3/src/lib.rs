//! The PyO3 peer of `benches/src/lib.rs`: each workload does the same Rust
//! work, with PyO3's own conversions at the boundary.

use pyo3::buffer::PyBuffer;
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use std::collections::HashMap;

create_exception!(ffi_export_pyo3_bench, BenchError, PyException);

#[pymodule]
mod ffi_export_pyo3_bench {
    use super::*;

    /// Does nothing.
    #[pyfunction]
    fn noop() {}

    /// `a + b`, wrapping.
    #[pyfunction]
    fn add(a: i64, b: i64) -> i64 {
        a.wrapping_add(b)
    }

    /// `a + b`, wrapping, as an `async fn` (PyO3's `experimental-async`:
    /// a coroutine polled on the awaiting thread, no executor).
    #[pyfunction]
    async fn add_async(a: i64, b: i64) -> i64 {
        a.wrapping_add(b)
    }

    /// Half of `x`.
    #[pyfunction]
    fn half(x: f64) -> f64 {
        x * 0.5
    }

    /// Always fails with the module's exception and a message.
    #[pyfunction]
    fn fail(x: i64) -> PyResult<i64> {
        Err(BenchError::new_err(format!("bad value {x}")))
    }

    #[pymodule_export]
    use super::BenchError;

    /// `text` upper-cased: a string round trip.
    #[pyfunction]
    fn upper(text: &str) -> String {
        text.to_uppercase()
    }

    /// The sum of an owned vector (a list of ints converted).
    #[pyfunction]
    fn sum_owned(values: Vec<i64>) -> i64 {
        values.into_iter().fold(0, i64::wrapping_add)
    }

    /// The sum of `ticker.tick(i)` for i in 0..count: `count` method calls
    /// on a Python object.
    #[pyfunction]
    fn tick_many(ticker: &Bound<'_, PyAny>, count: u64) -> PyResult<u64> {
        let mut sum = 0u64;
        for i in 0..count {
            sum = sum.wrapping_add(ticker.call_method1("tick", (i,))?.extract::<u64>()?);
        }
        Ok(sum)
    }

    /// The sum of a map's values (a dict converted).
    #[pyfunction]
    fn total_count(counts: HashMap<String, u32>) -> u32 {
        counts.values().fold(0, |a, b| a.wrapping_add(*b))
    }

    /// The sum of a buffer of doubles (numpy array, `array.array`), read in
    /// place through the buffer protocol.
    #[pyfunction]
    fn sum(values: PyBuffer<f64>) -> PyResult<f64> {
        let slice = values.as_slice_ptr().ok_or_else(|| {
            pyo3::exceptions::PyValueError::new_err("values: not a C-contiguous buffer")
        })?;
        // SAFETY: `values` holds the buffer (a Py_buffer export) for this
        // whole call, `as_slice_ptr` checked C-contiguity and the item
        // type, and the GIL stays held while reading, so no Python code
        // can write to it meanwhile.
        Ok(unsafe { slice.as_ref() }.iter().sum())
    }

    /// `0.0, 1.0, ..., n - 1` (PyO3 returns a list).
    #[pyfunction]
    fn range(n: usize) -> Vec<f64> {
        (0..n).map(|i| i as f64).collect()
    }

    /// A user record: a frozen class with read-only fields.
    #[pyclass(frozen, get_all)]
    struct User {
        id: u32,
        name: String,
        score: f64,
    }

    #[pymethods]
    impl User {
        #[new]
        fn new(id: u32, name: String, score: f64) -> Self {
            User { id, name, score }
        }
    }

    /// A user, returned by value.
    #[pyfunction]
    fn make_user(id: u32) -> User {
        User {
            id,
            name: format!("user{id}"),
            score: f64::from(id) * 1.5,
        }
    }

    /// A number from every field of a user passed in.
    #[pyfunction]
    fn score_of(user: PyRef<'_, User>) -> f64 {
        f64::from(user.id) + user.score + user.name.len() as f64
    }

    /// A counter object.
    #[pyclass]
    struct Counter(u64);

    #[pymethods]
    impl Counter {
        /// At zero.
        #[new]
        fn new() -> Self {
            Counter(0)
        }

        /// Adds one.
        fn incr(&mut self) -> u64 {
            self.0 += 1;
            self.0
        }
    }

    /// `f(x)`: one call of a Python callable from Rust.
    #[pyfunction]
    fn apply_once(x: f64, f: &Bound<'_, PyAny>) -> PyResult<f64> {
        f.call1((x,))?.extract()
    }

    /// `0, 1, …, n - 1` as a Python iterator: one `__next__` per item.
    #[pyclass]
    struct CountUp {
        next: u64,
        end: u64,
    }

    #[pymethods]
    impl CountUp {
        fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
            slf
        }

        fn __next__(mut slf: PyRefMut<'_, Self>) -> Option<u64> {
            (slf.next < slf.end).then(|| {
                slf.next += 1;
                slf.next - 1
            })
        }
    }

    /// The iterator of `0..n`.
    #[pyfunction]
    fn count_up(n: u64) -> CountUp {
        CountUp { next: 0, end: n }
    }

    /// `0, 1, …, n - 1` at once, a list.
    #[pyfunction]
    fn count_vec(n: u64) -> Vec<u64> {
        (0..n).collect()
    }
    /// A key compared and hashed by value: `==` and `hash()` are Rust's
    /// `PartialEq` and `Hash` (the peer of ffi-export's `#[export(Eq, Hash)]`).
    #[pyclass(eq, hash, frozen)]
    #[derive(PartialEq, Eq, Hash)]
    struct Key {
        id: u64,
        name: String,
    }

    #[pymethods]
    impl Key {
        #[new]
        fn new(id: u64, name: &str) -> Key {
            Key {
                id,
                name: name.to_owned(),
            }
        }
    }
}
