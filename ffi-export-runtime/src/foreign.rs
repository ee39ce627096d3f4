//! Calls from Rust into foreign code that may end the thread.
//!
//! On CPython 3.9–3.13 a thread that needs the GIL after the interpreter
//! started finalizing (a daemon thread returning from Rust, or one running
//! Python code below a Rust frame, e.g. in a callback) is ended with
//! `pthread_exit`, which unwinds the stack with a *forced* unwind. Letting
//! that unwind deallocate Rust frames is undefined behaviour (RFC 2945), and
//! in practice aborts the process ("panic in a function that cannot
//! unwind", or "FATAL: exception not rethrown" when `catch_unwind` meets
//! it). So every call from Rust into Python, or into a caller's callback or
//! allocator, is made through a `C-unwind` function pointer with a
//! [`HangIfUnwound`] guard armed: when such an unwind comes out of the call,
//! the guard's cleanup parks the thread for good, so the unwind never gets
//! past that frame and no Rust frame is deallocated. The process exits
//! normally around the parked thread — what CPython 3.14 itself does for
//! such threads.
//!
//! What this relies on, stated plainly: the compiler runs a frame's cleanup
//! code when a forced unwind passes through it (every rustc does, on the
//! Itanium unwinder glibc uses). RFC 2945 leaves forced unwinding through a
//! frame with pending destructors undefined in general, and a future rustc
//! could skip cleanups for forced unwinds (rust-lang/rust#101469); then the
//! guard would do nothing and the process would abort as it did before —
//! `test_soundness.py::test_daemon_threads_inside_calls_at_shutdown_exit_cleanly`
//! would catch that. Without the guard the abort is certain today.

/// Parks the thread forever when a *foreign* unwind comes out of the call
/// it was armed around; disarmed when the call returns normally.
pub struct HangIfUnwound {
    /// Whether the thread was already panicking when the guard was armed.
    panicking: bool,
}

impl HangIfUnwound {
    /// Arms the guard before a foreign call.
    #[inline(always)]
    pub fn arm() -> HangIfUnwound {
        HangIfUnwound {
            panicking: std::thread::panicking(),
        }
    }

    /// Disarms the guard after the foreign call returned normally.
    #[inline(always)]
    pub fn disarm(self) {
        core::mem::forget(self);
    }
}

impl Drop for HangIfUnwound {
    fn drop(&mut self) {
        // Only reached from the landing pad of the guarded call. A Rust
        // panic that started inside it (a Rust host's `C-unwind` callback
        // panicking) unwinds on to the shim's `catch_unwind` like any panic.
        if std::thread::panicking() && !self.panicking {
            return;
        }
        // Anything else is foreign: `pthread_exit` at interpreter shutdown,
        // a C++ exception from a C callback. It stops here, before any Rust
        // frame is unwound. Parking needs no Python and no lock of ours.
        loop {
            std::thread::park();
        }
    }
}
