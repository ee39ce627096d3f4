//! The PyO3 peer of `benches/src/lib.rs`: each workload does the same Rust
//! work, with PyO3's own conversions at the boundary.

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
