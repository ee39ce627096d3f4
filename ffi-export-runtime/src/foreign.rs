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
//! [`HangIfUnwound`] guard armed: the first Rust frame such an unwind reaches
//! parks the thread for good instead, no Rust frame is unwound, and the
//! process exits normally around the parked thread — what CPython 3.14
//! itself does for such threads.

/// Parks the thread forever when dropped; armed around a foreign call and
/// disarmed when it returns normally, so it is only ever dropped by a
/// foreign unwind coming out of that call.
pub struct HangIfUnwound;

impl HangIfUnwound {
    /// Arms the guard before a foreign call.
    #[inline(always)]
    pub fn arm() -> HangIfUnwound {
        HangIfUnwound
    }

    /// Disarms the guard after the foreign call returned normally.
    #[inline(always)]
    pub fn disarm(self) {
        core::mem::forget(self);
    }
}

impl Drop for HangIfUnwound {
    fn drop(&mut self) {
        // Only reached from the landing pad of the guarded call: a foreign
        // unwind (`pthread_exit` at interpreter shutdown, a C++ exception
        // from a C callback) is stopped here, before any Rust frame is
        // unwound. Parking needs no Python and no lock of ours.
        loop {
            std::thread::park();
        }
    }
}
