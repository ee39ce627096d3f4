//! `async fn` exports: tasks, the executor that drives them, and the hook
//! for a caller's own runtime.
//!
//! An `#[export] async fn name(..) -> R` becomes three C functions:
//!
//! - `uint64_t name(args.., void (*on_done)(void *), void *context)`
//!   lifts the arguments, makes the future and hands it to the executor;
//!   it returns a task handle (0 when the arguments are refused: take the
//!   error as after any call).
//! - `R name_finish(uint64_t task)` returns the task's result exactly as a
//!   call of a blocking `fn name(..) -> R` would (errors and panics through
//!   the error channel, owned results freed with `name_free`) and frees the
//!   task. Before `on_done` it fails ("not finished") and keeps the task.
//! - `bool ffi_export_task_cancel(uint64_t task)` (one for all exports)
//!   drops the future (or the unread result) and frees the task.
//!
//! `on_done(context)` is called exactly once per started task: from an
//! executor thread when the result is ready, from inside the start call
//! itself (on the caller's thread, before the handle is returned) when the
//! future is ready at its first poll, or from `ffi_export_task_cancel` when
//! that comes first. It must not block for long; it may call `name_finish`
//! itself once it knows the handle.
//!
//! Futures are polled by a small pool of threads owned by this module
//! (hand-written on `std::task::Wake`: no dependency), or by the caller's
//! runtime once [`set_spawner`] registered one — needed for futures that
//! use a runtime's reactor (tokio's timers and sockets). With the built-in
//! pool the first poll runs inside the start call, on the caller's thread
//! (which holds no GIL there: ctypes releases it): a future that is ready
//! at once — most `async fn` doing no I/O — never waits for a pool thread;
//! one that is pending is woken onto the pool like any other. This is how
//! a Python coroutine runs too (synchronously up to its first suspension).
//! Futures must not block in `poll` (the contract of every executor); one
//! that does (blocking I/O, a sleep, long computation) starts with
//! [`leave_caller_thread`]`().await`, so that only the pool waits for it.

use crate::describe::short_type_name;
use crate::foreign::HangIfUnwound;
use crate::status::{catch_quietly, Fault};
use core::ffi::c_void;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};
use std::any::Any;
use std::collections::{HashMap, VecDeque};
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::task::Wake;

/// A future handed to a spawner: it drives one task to its end.
pub type BoxFuture = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// The completion callback of the C contract: `void (*)(void *context)`.
/// `C-unwind`: see [`crate::foreign`].
pub type OnDone = unsafe extern "C-unwind" fn(*mut c_void);

type Spawner = Box<dyn Fn(BoxFuture) + Send + Sync>;

static SPAWNER: OnceLock<Spawner> = OnceLock::new();

/// Routes every later `async fn` export's future to `spawn` (for instance
/// `move |future| { handle.spawn(future); }` with a tokio runtime's
/// `Handle`), instead of the built-in thread pool. `spawn` must poll the
/// future to completion or drop it: a task whose future is dropped
/// unfinished (a runtime shutting down) ends as a panic, "the executor
/// dropped this task before it finished". A panic in `spawn` fails the
/// call. Set once per process; a second call returns `false` and changes
/// nothing.
pub fn set_spawner(spawn: impl Fn(BoxFuture) + Send + Sync + 'static) -> bool {
    SPAWNER.set(Box::new(spawn)).is_ok()
}

/// Moves the rest of the `async fn` off the thread that called it: the
/// first `.await` of this future suspends once and wakes itself, so the
/// built-in executor polls what follows on its pool. An `async fn` that
/// blocks (blocking I/O, `std::thread::sleep`, a long computation) starts
/// with it, so that the caller — a Python event loop — keeps running. With
/// a [`set_spawner`] runtime (whose threads poll every future) it is a
/// plain yield.
pub fn leave_caller_thread() -> impl Future<Output = ()> + Send + 'static {
    YieldOnce(false)
}

/// Pending once (waking itself), then ready.
struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// The caller's `on_done` and `context`, called once.
struct Notify {
    on_done: OnDone,
    context: *mut c_void,
}

// SAFETY: the C contract makes `on_done(context)` callable from any thread
// (it is documented to run on an executor thread).
unsafe impl Send for Notify {}

impl Notify {
    fn call(self) {
        // A Rust host's `C-unwind` callback that panics: dropped here (the
        // task is finished either way).
        let _ = catch_quietly(|| {
            crate::foreign::park_if_caller_exited(crate::status::in_shim);
            let guard = HangIfUnwound::arm();
            // SAFETY: the caller's callback and context, called once (C
            // contract); a foreign unwind stops at the guard.
            unsafe { (self.on_done)(self.context) };
            guard.disarm();
        });
    }
}

enum State<R> {
    Running(Pin<Box<dyn Future<Output = R> + Send>>),
    Done(std::thread::Result<R>),
    Gone,
}

/// One started future: its state, and who to tell when it ends.
struct Task<R> {
    state: Mutex<State<R>>,
    notify: Mutex<Option<Notify>>,
    /// The driver's waker while the future is pending: a cancel wakes it,
    /// so the driver ends (and is freed) on any executor.
    driver: Mutex<Option<Waker>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every state is consistent when a lock is released (user code runs
    // under `catch_quietly`).
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Drops user values (a future, a result) without letting a panic out.
fn drop_quietly<T>(value: T) {
    let _ = catch_quietly(move || drop(value));
}

impl<R> Task<R> {
    fn notify(&self) {
        let notify = lock(&self.notify).take();
        if let Some(notify) = notify {
            notify.call();
        }
    }
}

/// What the registry keeps of a task, whatever its result type.
trait Control: Send + Sync {
    fn cancel(&self);
    fn any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync>;
    fn done(&self) -> bool;
}

impl<R: Send + 'static> Control for Task<R> {
    fn cancel(&self) {
        let old = core::mem::replace(&mut *lock(&self.state), State::Gone);
        drop_quietly(old);
        self.notify();
        let driver = lock(&self.driver).take();
        if let Some(driver) = driver {
            driver.wake();
        }
    }
    fn any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync> {
        self
    }
    fn done(&self) -> bool {
        matches!(*lock(&self.state), State::Done(_))
    }
}

/// Polls a task's future; ends when it is ready or the task is cancelled.
struct Drive<R>(Arc<Task<R>>);

impl<R: Send + 'static> Future for Drive<R> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let task = &self.0;
        let mut state = lock(&task.state);
        let State::Running(future) = &mut *state else {
            return Poll::Ready(());
        };
        let outcome = match catch_quietly(|| future.as_mut().poll(cx)) {
            Ok(Poll::Pending) => {
                *lock(&task.driver) = Some(cx.waker().clone());
                return Poll::Pending;
            }
            Ok(Poll::Ready(value)) => Ok(value),
            Err(payload) => Err(payload),
        };
        let finished = core::mem::replace(&mut *state, State::Done(outcome));
        drop(state);
        let driver = lock(&task.driver).take();
        drop(driver);
        drop_quietly(finished);
        task.notify();
        Poll::Ready(())
    }
}

impl<R> Drop for Drive<R> {
    fn drop(&mut self) {
        // An executor that drops a task before it ended (a runtime shutting
        // down, a spawner that discards futures): the task ends with an
        // error instead of leaving its caller waiting forever.
        let task = &self.0;
        let mut state = lock(&task.state);
        if !matches!(*state, State::Running(_)) {
            return;
        }
        let dropped: Box<dyn Any + Send> =
            Box::new("the executor dropped this task before it finished");
        let unfinished = core::mem::replace(&mut *state, State::Done(Err(dropped)));
        drop(state);
        drop_quietly(unfinished);
        task.notify();
    }
}

fn tasks() -> MutexGuard<'static, HashMap<u64, Arc<dyn Control>>> {
    static TASKS: OnceLock<Mutex<HashMap<u64, Arc<dyn Control>>>> = OnceLock::new();
    lock(TASKS.get_or_init(Default::default))
}

/// Task handles are never reused: a stale one cannot reach a new task.
static NEXT_TASK: AtomicU64 = AtomicU64::new(1);

#[doc(hidden)]
/// Starts `future` (an `async fn` export's, made by its shim) and returns
/// the task's handle; `on_done(context)` is called once when it ends.
pub fn start<R, F>(future: F, on_done: Option<OnDone>, context: *mut c_void) -> Result<u64, Fault>
where
    R: Send + 'static,
    F: Future<Output = R> + Send + 'static,
{
    let Some(on_done) = on_done else {
        return Err(Fault::invalid(
            "on_done",
            "NULL (a completion callback is required)",
        ));
    };
    let task = Arc::new(Task {
        state: Mutex::new(State::Running(Box::pin(future))),
        notify: Mutex::new(Some(Notify { on_done, context })),
        driver: Mutex::new(None),
    });
    let id = NEXT_TASK.fetch_add(1, Ordering::Relaxed);
    tasks().insert(id, task.clone());
    // A spawner that panics has not taken the task: forget it, and let the
    // panic fail this call (inside the shim's `call`).
    let drive = Box::pin(Drive(task));
    if let Err(payload) = std::panic::catch_unwind(AssertUnwindSafe(move || spawn(drive))) {
        tasks().remove(&id);
        std::panic::resume_unwind(payload);
    }
    Ok(id)
}

#[doc(hidden)]
/// Takes the result of the finished task `handle` and frees the task (a
/// panic of the future resumes here, inside the `_finish` shim's `call`).
pub fn finish<R: Send + 'static>(handle: u64) -> Result<R, Fault> {
    let task = {
        let mut map = tasks();
        let Some(task) = map.get(&handle) else {
            return Err(Fault::invalid(
                "task",
                format_args!("{handle} is not a live task (finished, cancelled or never started)"),
            ));
        };
        let task = task.clone().any().downcast::<Task<R>>().map_err(|_| {
            Fault::invalid(
                "task",
                format_args!("task {handle} does not return `{}`", short_type_name::<R>()),
            )
        })?;
        if !task.done() {
            return Err(Fault::invalid(
                "task",
                format_args!("task {handle} is not finished: wait for its on_done callback"),
            ));
        }
        map.remove(&handle);
        task
    };
    let state = core::mem::replace(&mut *lock(&task.state), State::Gone);
    match state {
        State::Done(Ok(value)) => Ok(value),
        State::Done(Err(payload)) => std::panic::resume_unwind(payload),
        // `done()` was true and only `finish`/`cancel` (which removed it
        // from the map first) leave `Done`.
        State::Running(_) | State::Gone => Err(Fault::invalid("task", "already finished")),
    }
}

/// Cancels the task `handle`: drops its future (after a poll running on
/// another thread returns) or its unread result, frees the task, and calls
/// its `on_done` if that was not called yet. Returns whether the handle was
/// live; a finished, cancelled or unknown handle is a no-op.
#[no_mangle]
pub extern "C" fn ffi_export_task_cancel(task: u64) -> bool {
    let removed = tasks().remove(&task);
    match removed {
        Some(task) => {
            task.cancel();
            true
        }
        None => false,
    }
}

/// The number of started tasks not yet finished or cancelled (for leak
/// checks).
pub fn live_tasks() -> usize {
    tasks().len()
}

fn spawn(future: BoxFuture) {
    if let Some(spawner) = SPAWNER.get() {
        spawner(future);
        return;
    }
    let job = Arc::new(Job {
        future: Mutex::new(Some(future)),
        queued: AtomicBool::new(false),
    });
    // The first poll, here on the caller's thread: a future ready at once
    // ends now (its `on_done` runs before the handle is returned); a
    // pending one registered the job's waker, which queues it on the pool.
    // A wake during this poll queues it too: the pool thread then waits
    // for this poll to release the job's lock, and polls again.
    job.run();
}

/// A future on the built-in pool; queued (once) whenever it is woken.
struct Job {
    future: Mutex<Option<BoxFuture>>,
    queued: AtomicBool,
}

impl Wake for Job {
    fn wake(self: Arc<Self>) {
        if !self.queued.swap(true, Ordering::AcqRel) {
            pool().push(self);
        }
    }
}

impl Job {
    fn run(self: Arc<Self>) {
        self.queued.store(false, Ordering::Release);
        let waker = Waker::from(self.clone());
        let mut slot = lock(&self.future);
        if let Some(future) = slot.as_mut() {
            // `Drive` catches the user's panics itself.
            if future
                .as_mut()
                .poll(&mut Context::from_waker(&waker))
                .is_ready()
            {
                let done = slot.take();
                drop(slot);
                drop(done);
            }
        }
    }
}

/// The built-in executor: a queue of woken jobs and a few threads.
struct Pool {
    queue: Mutex<VecDeque<Arc<Job>>>,
    ready: Condvar,
}

/// How many threads poll futures: futures are expected not to block, so a
/// few suffice.
const POOL_THREADS: usize = 4;

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| {
        for index in 0..POOL_THREADS {
            let spawned = std::thread::Builder::new()
                .name(format!("ffi-export-async-{index}"))
                .spawn(worker);
            // Without any thread, jobs would wait forever: make the failure
            // loud (it only happens when the OS refuses threads).
            if let Err(error) = spawned {
                panic!("ffi-export: cannot start an executor thread: {error}");
            }
        }
        Pool {
            queue: Mutex::new(VecDeque::new()),
            ready: Condvar::new(),
        }
    })
}

impl Pool {
    fn push(&self, job: Arc<Job>) {
        lock(&self.queue).push_back(job);
        self.ready.notify_one();
    }
}

fn worker() {
    let pool = pool();
    loop {
        let job = {
            let mut queue = lock(&pool.queue);
            loop {
                if let Some(job) = queue.pop_front() {
                    break job;
                }
                queue = pool
                    .ready
                    .wait(queue)
                    .unwrap_or_else(PoisonError::into_inner);
            }
        };
        job.run();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::time::{Duration, Instant};

    static DONE: AtomicUsize = AtomicUsize::new(0);

    unsafe extern "C-unwind" fn count(_: *mut c_void) {
        DONE.fetch_add(1, Ordering::SeqCst);
    }

    fn wait_done(target: usize) {
        let until = Instant::now() + Duration::from_secs(5);
        while DONE.load(Ordering::SeqCst) < target && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    #[test]
    fn results_panics_cancel_and_bad_handles() {
        let before = DONE.load(Ordering::SeqCst);
        let ok = start(async { 41 + 1 }, Some(count), core::ptr::null_mut()).unwrap();
        wait_done(before + 1);
        assert_eq!(finish::<i32>(ok), Ok(42));
        assert!(finish::<i32>(ok).is_err());
        assert!(!ffi_export_task_cancel(ok));

        let boom = start(async { panic!("boom") }, Some(count), core::ptr::null_mut());
        let boom: u64 = boom.unwrap();
        wait_done(before + 2);
        assert!(std::panic::catch_unwind(|| finish::<()>(boom)).is_err());

        let pending = start(
            core::future::pending::<u8>(),
            Some(count),
            core::ptr::null_mut(),
        );
        let pending = pending.unwrap();
        assert!(
            matches!(finish::<u8>(pending), Err(Fault::InvalidArgument(m)) if m.contains("not finished"))
        );
        assert!(
            matches!(finish::<u16>(pending), Err(Fault::InvalidArgument(m)) if m.contains("does not return"))
        );
        assert!(ffi_export_task_cancel(pending));
        assert_eq!(DONE.load(Ordering::SeqCst), before + 3);
        assert!(start(async {}, None, core::ptr::null_mut()).is_err());
    }

    #[test]
    fn a_ready_future_ends_inside_start_and_a_pending_one_on_the_pool() {
        let before = DONE.load(Ordering::SeqCst);
        let here = std::thread::current().name().map(String::from);
        let ready = start(
            async { std::thread::current().name().map(String::from) },
            Some(count),
            core::ptr::null_mut(),
        )
        .unwrap();
        // on_done ran inside `start`: no waiting.
        assert!(DONE.load(Ordering::SeqCst) > before);
        assert_eq!(finish::<Option<String>>(ready), Ok(here));
        let later = start(
            async {
                leave_caller_thread().await;
                std::thread::current().name().map(String::from)
            },
            Some(count),
            core::ptr::null_mut(),
        )
        .unwrap();
        wait_done(before + 2);
        let name = finish::<Option<String>>(later).unwrap().unwrap_or_default();
        assert!(name.starts_with("ffi-export-async-"), "{name}");
    }

    #[test]
    fn a_dropped_driver_ends_its_task_with_an_error() {
        let task = Arc::new(Task {
            state: Mutex::new(State::Running(Box::pin(core::future::pending::<u8>()))),
            notify: Mutex::new(None),
            driver: Mutex::new(None),
        });
        drop(Drive(task.clone()));
        let state = core::mem::replace(&mut *lock(&task.state), State::Gone);
        let State::Done(Err(payload)) = state else {
            panic!("the task did not end");
        };
        assert_eq!(
            payload.downcast_ref::<&str>(),
            Some(&"the executor dropped this task before it finished")
        );
    }
}
