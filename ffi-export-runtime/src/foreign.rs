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

//!
//! A second hazard is calling in *after* the interpreter is gone: a thread
//! of the library's own (an executor, a thread keeping a Python listener),
//! which has no Python thread state, makes a new one in
//! `PyGILState_Ensure`, and once `Py_FinalizeEx` has freed the interpreter
//! that reads freed memory. The helper therefore calls
//! [`ffi_export_caller_exiting`] from an `atexit` handler of the main
//! interpreter, on its main thread, before the interpreter is torn down:
//! from then on every *library* thread (one not inside an exported call)
//! about to call an object the caller lent Rust to keep (a trait object, a
//! stored closure: call, retain, release) or an `async` task's `on_done`
//! parks instead ([`park_if_caller_exited`]), and the main thread (which
//! may still run exit handlers that call exports) carries on. A thread
//! inside an exported call Python made (callbacks, allocators, `&dyn Fn`,
//! a listener called synchronously) does not park: it has a Python thread
//! state (CPython ends it when it next takes the GIL, and the guard below
//! parks it then), and parking it early would keep the locks of the
//! objects its call borrowed, which exit handlers may still need. Neither
//! do calls into the C API made with the GIL held (the fast path). A
//! library thread parked by the flag while a daemon thread's call waits
//! for it (a scoped thread, say) keeps that call's objects locked. Left: a thread
//! that read the flag just before it was set can still start its call
//! during finalization; the window is the time between one atomic load and
//! the call, not the whole of finalization. The flag is process-wide.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use std::thread::ThreadId;

/// Set once the caller said it is going away.
static EXITING: AtomicBool = AtomicBool::new(false);
/// The thread that said so: it alone still calls the caller.
static EXITING_THREAD: OnceLock<ThreadId> = OnceLock::new();

/// Tells the library that its caller's runtime is going away (the Python
/// helper calls it from an `atexit` handler on the main thread): from now
/// on any other thread about to call one of the caller's functions (a
/// callback, a method of an object the caller implements, an `on_done`)
/// parks for good instead, and the calling thread keeps calling in. Calling
/// it again changes nothing.
#[no_mangle]
pub extern "C" fn ffi_export_caller_exiting() {
    let _ = EXITING_THREAD.set(std::thread::current().id());
    EXITING.store(true, Ordering::Release);
}

fn park_forever() -> ! {
    loop {
        std::thread::park();
    }
}

/// Parks the calling thread for good if the caller said it is going away
/// ([`ffi_export_caller_exiting`]), this is not the thread that said so,
/// and `in_callers_call` is false (the thread is not inside an exported
/// call the caller made: it is one of the library's own). Called before
/// Rust calls an object the caller lent it to keep, and before an
/// `on_done`.
#[inline(always)]
pub fn park_if_caller_exited(in_callers_call: impl FnOnce() -> bool) {
    if EXITING.load(Ordering::Acquire)
        && EXITING_THREAD.get() != Some(&std::thread::current().id())
        && !in_callers_call()
    {
        park_forever();
    }
}

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
        park_forever();
    }
}
