//! Objects: values of an `#[export] impl` type live in a registry and cross
//! as checked `u64` handles, never as raw pointers. A closed, stale or
//! foreign handle is an error, not undefined behaviour.
//!
//! An entry holds its value in one of two ways:
//!
//! * **owned** (`register`, a constructor returning `Self`): the registry
//!   is its only owner and keeps it behind a mutex, so `&self` and
//!   `&mut self` methods from several threads run one at a time
//!   (`T: Send` is required, `Sync` is not);
//! * **shared** (`register_shared`, an `Arc<T>` returned to the caller):
//!   Rust code may hold the same `Arc` at once, so only `&T` is ever handed
//!   out, without a lock (`T: Send + Sync` is required); a type shared this
//!   way changes through its own interior mutability (`Mutex`, atomics),
//!   and `&mut self` methods or `&mut T` parameters on it are refused. The
//!   same `Arc` registered twice gets the same handle back (with one more
//!   reference to release), so Python objects of it compare equal.
//!
//! The objects a call borrows (its receiver and `&T` / `&mut T`
//! parameters) are gathered in an [`ObjectArgs`]: it refuses one object
//! borrowed twice when one borrow is `&mut`, locks each owned object once,
//! in handle order (two calls locking the same objects cannot deadlock each
//! other), and refuses a re-entrant call into an object this thread
//! already has locked (a callback calling back into it) instead of
//! deadlocking.

use crate::convert::{copied_elems, lift_copied, CallScope, FfiSliceElem, SliceArg};
use crate::data::{FfiData, FfiLift, Moves};
pub use crate::describe::ObjectDesc;
use crate::describe::{short_type_name, TypeDesc};
use crate::status::Fault;
use std::any::{Any, TypeId};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};

/// A type exported with `#[export] impl`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an object of an #[export] impl",
    label = "not an object",
    note = "only objects of an #[export] impl are borrowed `&mut` or shared as `Arc<T>`",
    note = "#[export] structs and enums are copied in, so changes would be lost: take one by value and return the changed copy"
)]
pub trait FfiObject: Send + Sized + 'static {
    /// Its description (`TypeDesc::Object`).
    const DESC: TypeDesc;
}

/// How the registry holds a value.
#[derive(Clone)]
enum Held {
    /// Only the registry owns it: behind its mutex.
    Owned(Arc<Mutex<dyn Any + Send>>),
    /// An `Arc<T>` Rust code may hold too: `&T` only.
    Shared(Arc<dyn Any + Send + Sync>),
}

struct Entry {
    type_name: &'static str,
    type_id: TypeId,
    held: Held,
    /// How many times the handle was handed out and not yet released (a
    /// shared value returned twice is one entry with two references).
    refs: usize,
    /// The token of the call moving it (by value) into Rust: reserved
    /// while that call checks its arguments, refused to every other call;
    /// 0 when not reserved.
    reserved: u64,
    /// Released (its last reference) while reserved: removed when the
    /// reservation ends without the call taking it.
    close_pending: bool,
}

#[derive(Default)]
struct Registry {
    entries: HashMap<u64, Entry, BuildHandleHasher>,
    /// The handle of each shared value, by the address of its `Arc`'s data.
    shared: HashMap<usize, u64, BuildHandleHasher>,
}

/// Hashes a handle (or an address) by one multiplication: handles are
/// numbered in order by the registry and never chosen by a caller (a
/// caller's handle is only looked up), so the default hasher's protection
/// against chosen keys buys nothing here and costs every call a SipHash.
/// The multiplier spreads consecutive numbers over the high bits the table
/// reads.
#[derive(Default, Clone, Copy)]
struct BuildHandleHasher;

#[derive(Default)]
struct HandleHasher(u64);

impl std::hash::BuildHasher for BuildHandleHasher {
    type Hasher = HandleHasher;
    fn build_hasher(&self) -> HandleHasher {
        HandleHasher(0)
    }
}

impl std::hash::Hasher for HandleHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.write_u64(u64::from(byte));
        }
    }
    fn write_u64(&mut self, value: u64) {
        self.0 = (self.0 ^ value).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
    fn write_usize(&mut self, value: usize) {
        self.write_u64(value as u64);
    }
}

/// Handles are never reused, so a stale handle cannot reach a new object.
static NEXT_HANDLE: AtomicU64 = AtomicU64::new(1);

fn registry() -> MutexGuard<'static, Registry> {
    static REGISTRY: OnceLock<Mutex<Registry>> = OnceLock::new();
    REGISTRY
        .get_or_init(Default::default)
        .lock()
        // The maps are consistent whenever the lock is released.
        .unwrap_or_else(PoisonError::into_inner)
}

thread_local! {
    /// Objects whose lock this thread holds: a re-entrant call (through a
    /// callback) is refused instead of deadlocking.
    static IN_USE: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
}

/// Registers `value` (owned by the registry) and returns its new handle.
/// The macro's `FfiData` impl for an `#[export] impl` type calls this, so
/// an object can be returned from any export (alone, in an `Option`,
/// `Result` or `Vec`) and crosses as its handle.
pub fn register<T: FfiObject>(value: T) -> u64 {
    let id = NEXT_HANDLE.fetch_add(1, Ordering::Relaxed);
    let object: Arc<Mutex<dyn Any + Send>> = Arc::new(Mutex::new(value));
    let entry = Entry {
        type_name: short_type_name::<T>(),
        type_id: TypeId::of::<T>(),
        held: Held::Owned(object),
        refs: 1,
        reserved: 0,
        close_pending: false,
    };
    registry().entries.insert(id, entry);
    id
}

/// Registers a shared value and returns its handle: the handle it already
/// has if this `Arc` is registered (one more reference to release), else a
/// new one. `Arc<T>`'s `FfiData` impl calls this.
pub fn register_shared<T: FfiObject + Sync>(value: Arc<T>) -> u64 {
    let address = Arc::as_ptr(&value) as *const () as usize;
    let mut registry = registry();
    if let Some(&id) = registry.shared.get(&address) {
        if let Some(entry) = registry.entries.get_mut(&id) {
            entry.refs += 1;
            return id;
        }
    }
    let id = NEXT_HANDLE.fetch_add(1, Ordering::Relaxed);
    let entry = Entry {
        type_name: short_type_name::<T>(),
        type_id: TypeId::of::<T>(),
        held: Held::Shared(value),
        refs: 1,
        reserved: 0,
        close_pending: false,
    };
    registry.entries.insert(id, entry);
    registry.shared.insert(address, id);
    id
}

/// The entry behind `handle`, checked to be a live `T`, or why not.
fn lookup<T: FfiObject>(handle: u64) -> Result<(Held, &'static str), String> {
    let registry = registry();
    let Some(entry) = registry.entries.get(&handle) else {
        return Err(not_live(handle, short_type_name::<T>()));
    };
    if entry.type_id != TypeId::of::<T>() {
        return Err(format!(
            "handle {handle} is a `{}`, not a `{}`",
            entry.type_name,
            short_type_name::<T>()
        ));
    }
    if entry.reserved != 0 {
        return Err(being_moved(entry.type_name));
    }
    Ok((entry.held.clone(), entry.type_name))
}

fn being_moved(type_name: &str) -> String {
    format!(
        "this `{type_name}` is being moved into a Rust call (passed by value to it, in this \
         call or another thread's): it cannot be used meanwhile"
    )
}

fn not_live(handle: u64, type_name: &str) -> String {
    format!(
        "{handle} is not a live `{type_name}` handle (closed, freed, moved into a Rust call \
         or never created)"
    )
}

/// The shared value behind `handle`, as an `Arc` of its own, or why not.
/// An object the registry owns alone (made by a function returning `Self`)
/// is refused: it was never shared.
fn shared_value<T: FfiObject + Sync>(handle: u64) -> Result<Arc<T>, String> {
    let name = short_type_name::<T>();
    match lookup::<T>(handle)?.0 {
        Held::Shared(value) => value
            .downcast::<T>()
            .map_err(|_| format!("handle {handle} is not a `{name}`")),
        Held::Owned(_) => Err(format!(
            "this `{name}` is not shared: it was made by a function returning `{name}`, which \
             its caller owns alone; make it with one returning `Arc<{name}>` to share it"
        )),
    }
}

/// The shared value behind `handle` for the argument `param`: an `Arc<T>`
/// parameter or a `self: Arc<Self>` receiver.
pub fn shared<T: FfiObject + Sync>(handle: u64, param: &'static str) -> Result<Arc<T>, Fault> {
    shared_value(handle).map_err(|why| Fault::invalid(param, why))
}

/// One object a call borrows.
struct Slot {
    handle: u64,
    param: &'static str,
    type_name: &'static str,
    /// Borrowed `&mut`.
    mutable: bool,
    /// A panic during the call poisons it: it may be half changed.
    poisons: bool,
    held: Held,
}

/// The objects one call borrows: its receiver and its `&T` / `&mut T`
/// object parameters, gathered (and checked) as the arguments are read,
/// then locked together for the call by [`ObjectArgs::call`].
#[derive(Default)]
pub struct ObjectArgs {
    /// The first object (most calls borrow one: their receiver), kept
    /// inline so that such a call allocates nothing.
    first: Option<Slot>,
    rest: Vec<Slot>,
}

impl ObjectArgs {
    /// No objects yet.
    #[inline]
    pub fn new() -> ObjectArgs {
        ObjectArgs::default()
    }

    /// Adds the `T` behind `handle`, borrowed `&T` or (`mutable`) `&mut T`
    /// as the argument `param`, and returns its index. Refuses a stale or
    /// foreign handle, `&mut` of a shared object, and an object already
    /// added when either borrow is `&mut` (Rust's aliasing rule).
    pub fn hold<T: FfiObject>(
        &mut self,
        handle: u64,
        mutable: bool,
        param: &'static str,
    ) -> Result<usize, Fault> {
        self.add::<T>(handle, mutable, mutable, param)
    }

    fn add<T: FfiObject>(
        &mut self,
        handle: u64,
        mutable: bool,
        poisons: bool,
        param: &'static str,
    ) -> Result<usize, Fault> {
        let (held, type_name) = lookup::<T>(handle).map_err(|why| Fault::invalid(param, why))?;
        if mutable && matches!(held, Held::Shared(_)) {
            return Err(Fault::invalid(
                param,
                format_args!(
                    "this `{type_name}` is shared (made by a function returning `Arc<{type_name}>`, \
                     Rust code may hold it too): it is only ever borrowed `&`, so `&mut self` \
                     methods and `&mut {type_name}` parameters refuse it; give the type its own \
                     interior mutability (a `Mutex` field) and `&self` methods"
                ),
            ));
        }
        if let Some(other) = self
            .slots()
            .find(|slot| slot.handle == handle && (slot.mutable || mutable))
        {
            let which = if mutable { param } else { other.param };
            return Err(Fault::invalid(
                param,
                format_args!(
                    "the same `{type_name}` is also passed as `{}`, and `{which}` borrows it \
                     `&mut`: Rust allows no other borrow of an object while it is borrowed \
                     mutably; pass two different objects",
                    other.param
                ),
            ));
        }
        let slot = Slot {
            handle,
            param,
            type_name,
            mutable,
            poisons,
            held,
        };
        if self.first.is_none() {
            self.first = Some(slot);
            return Ok(0);
        }
        self.rest.push(slot);
        Ok(self.rest.len())
    }

    /// The objects in the order they were added (their indices).
    fn slots(&self) -> impl Iterator<Item = &Slot> {
        self.first.iter().chain(&self.rest)
    }

    /// Runs `body` with every object locked: each owned object once, in
    /// handle order; shared ones need no lock. An object this thread
    /// already has locked (a callback calling back into it) is refused. A
    /// panic in `body` poisons the objects borrowed `&mut` (they may be
    /// half changed: later calls on them fail) and unwinds on; objects
    /// borrowed `&` are unlocked cleanly first.
    pub fn call<R>(&self, body: impl FnOnce(&Locked<'_>) -> Result<R, Fault>) -> Result<R, Fault> {
        match (&self.first, self.rest.is_empty()) {
            (Some(slot), true) => return call_one(slot, body),
            (None, _) => return body(&Locked { slots: &[] }),
            _ => {}
        }
        // The owned objects, each once, in handle order.
        let mut owned: Vec<(&Slot, &Arc<Mutex<dyn Any + Send>>)> = Vec::new();
        for slot in self.slots() {
            if let Held::Owned(object) = &slot.held {
                if !owned.iter().any(|(seen, _)| seen.handle == slot.handle) {
                    owned.push((slot, object));
                }
            }
        }
        owned.sort_by_key(|(slot, _)| slot.handle);
        let _marks = Marks::take(owned.iter().map(|(slot, _)| *slot))?;
        let mut guards = Vec::with_capacity(owned.len());
        for (slot, object) in &owned {
            let guard = object.lock().map_err(|_| unusable(slot))?;
            // Poisons if any borrow of it does.
            let poisons = self.slots().any(|s| s.handle == slot.handle && s.poisons);
            guards.push((slot.handle, poisons, guard));
        }
        let mut pointers = Vec::with_capacity(self.rest.len() + 1);
        for slot in self.slots() {
            let pointer: *mut dyn Any = match &slot.held {
                Held::Shared(value) => shared_pointer(value),
                Held::Owned(_) => {
                    let Some((_, _, guard)) = guards.iter_mut().find(|(h, _, _)| *h == slot.handle)
                    else {
                        return Err(Fault::Panic("an object argument was not locked".to_owned()));
                    };
                    let value: &mut dyn Any = &mut **guard;
                    value as *mut dyn Any
                }
            };
            pointers.push(Borrowed::new(slot, pointer));
        }
        let locked = Locked { slots: &pointers };
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| body(&locked)));
        match outcome {
            Ok(value) => value,
            Err(payload) => {
                // Unlocked cleanly: the objects no borrow could have changed.
                let poisoning: Vec<_> = guards
                    .into_iter()
                    .filter(|(_, poisons, _)| *poisons)
                    .collect();
                // Unwinds on to the shim's `call` with the guards of the
                // others still held: they are dropped while panicking, which
                // poisons their mutexes.
                let _poisoning = poisoning;
                std::panic::resume_unwind(payload)
            }
        }
    }
}

/// [`ObjectArgs::call`] of a call borrowing one object (a method's
/// receiver, most often): the same steps, without allocating.
fn call_one<R>(
    slot: &Slot,
    body: impl FnOnce(&Locked<'_>) -> Result<R, Fault>,
) -> Result<R, Fault> {
    let object = match &slot.held {
        Held::Shared(value) => {
            let borrowed = [Borrowed::new(slot, shared_pointer(value))];
            return body(&Locked { slots: &borrowed });
        }
        Held::Owned(object) => object,
    };
    let _mark = Marks::take(std::iter::once(slot))?;
    let mut guard = object.lock().map_err(|_| unusable(slot))?;
    let value: &mut dyn Any = &mut *guard;
    let borrowed = [Borrowed::new(slot, value as *mut dyn Any)];
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        body(&Locked { slots: &borrowed })
    }));
    match outcome {
        Ok(value) => value,
        Err(payload) => {
            if !slot.poisons {
                // Unlocked cleanly: a `&` borrow cannot have changed it.
                drop(guard);
            }
            // Otherwise the guard drops while unwinding: the mutex is poisoned.
            std::panic::resume_unwind(payload)
        }
    }
}

/// The pointer `Locked` hands out `&T` from, for a shared value.
fn shared_pointer(value: &Arc<dyn Any + Send + Sync>) -> *mut dyn Any {
    let value: &dyn Any = &**value;
    value as *const dyn Any as *mut dyn Any
}

/// The error of an object whose lock a panic poisoned.
fn unusable(slot: &Slot) -> Fault {
    Fault::Panic(format!(
        "argument `{}`: this `{}` is unusable: an earlier call on it panicked mid-way; close it",
        slot.param, slot.type_name
    ))
}

/// This thread's marks on the objects a call locks, removed when it ends
/// (or unwinds).
struct Marks {
    /// The first handle (0: none; handles start at 1), inline.
    first: u64,
    rest: Vec<u64>,
}

impl Marks {
    fn take<'a>(slots: impl Iterator<Item = &'a Slot>) -> Result<Marks, Fault> {
        let mut marks = Marks {
            first: 0,
            rest: Vec::new(),
        };
        for slot in slots {
            let reentrant = IN_USE.with(|set| {
                let mut set = set.borrow_mut();
                let reentrant = set.contains(&slot.handle);
                if !reentrant {
                    set.push(slot.handle);
                }
                reentrant
            });
            if reentrant {
                return Err(Fault::invalid(
                    slot.param,
                    format_args!(
                        "re-entrant call on the same `{}` (from inside one of its own methods, \
                         through a callback)",
                        slot.type_name
                    ),
                ));
            }
            match marks.first {
                0 => marks.first = slot.handle,
                _ => marks.rest.push(slot.handle),
            }
        }
        Ok(marks)
    }
}

impl Drop for Marks {
    fn drop(&mut self) {
        IN_USE.with(|set| {
            set.borrow_mut()
                .retain(|h| *h != self.first && !self.rest.contains(h))
        });
    }
}

struct Borrowed {
    pointer: *mut dyn Any,
    mutable: bool,
    taken: Cell<bool>,
    param: &'static str,
}

impl Borrowed {
    fn new(slot: &Slot, pointer: *mut dyn Any) -> Borrowed {
        Borrowed {
            pointer,
            mutable: slot.mutable,
            taken: Cell::new(false),
            param: slot.param,
        }
    }
}

/// The objects of one call while locked ([`ObjectArgs::call`]): each
/// borrowed `&T` as often as asked, or `&mut T` once.
pub struct Locked<'a> {
    slots: &'a [Borrowed],
}

impl Locked<'_> {
    fn slot(&self, index: usize, mutable: bool) -> Result<&Borrowed, Fault> {
        let slot = self
            .slots
            .get(index)
            .ok_or_else(|| Fault::Panic(format!("no object argument {index}")))?;
        // A `&mut` slot's object is borrowed once, by one reference: its
        // handle appears in no other slot (checked by `ObjectArgs::add`).
        if slot.mutable != mutable || (slot.mutable && slot.taken.replace(true)) {
            return Err(Fault::Panic(format!(
                "argument `{}` borrowed twice or with the wrong mutability",
                slot.param
            )));
        }
        Ok(slot)
    }

    /// The object at `index` (added with `mutable: false`) as `&T`.
    pub fn get<T: 'static>(&self, index: usize) -> Result<&T, Fault> {
        let slot = self.slot(index, false)?;
        // SAFETY: the pointer is to a value kept alive and locked (owned)
        // or immutable (shared) until `Locked` is dropped, which outlives
        // the returned borrow; no `&mut` to it exists (a `&mut` slot's
        // handle is in no other slot).
        let value = unsafe { &*slot.pointer };
        value
            .downcast_ref::<T>()
            .ok_or_else(|| wrong_type::<T>(slot.param))
    }

    /// The object at `index` (added with `mutable: true`) as `&mut T`,
    /// once.
    #[allow(clippy::mut_from_ref)]
    pub fn get_mut<T: 'static>(&self, index: usize) -> Result<&mut T, Fault> {
        let slot = self.slot(index, true)?;
        // SAFETY: an owned object (shared ones are refused `&mut` by
        // `ObjectArgs::add`) locked by this call until `Locked` is
        // dropped; its handle is in no other slot and `slot` hands this
        // slot out once, so this is its only reference.
        let value = unsafe { &mut *slot.pointer };
        value
            .downcast_mut::<T>()
            .ok_or_else(|| wrong_type::<T>(slot.param))
    }
}

fn wrong_type<T>(param: &'static str) -> Fault {
    Fault::invalid(param, format_args!("not a `{}`", short_type_name::<T>()))
}

/// Runs `method` on the object behind `handle`, checking that the handle is
/// live and of type `T` (owned, not shared), and holding the object's lock
/// meanwhile.
///
/// A panic in a `&mut self` method (`mutable`) may leave the object half
/// changed, so it poisons the object: later calls fail until it is closed.
/// A `&self` method cannot have changed it, so its panic does not poison.
pub fn with_object<T: FfiObject, R>(
    handle: u64,
    mutable: bool,
    method: impl FnOnce(&mut T) -> R,
) -> Result<R, Fault> {
    let mut args = ObjectArgs::new();
    args.add::<T>(handle, true, mutable, "self")?;
    args.call(|locked| Ok(method(locked.get_mut::<T>(0)?)))
}

/// Releases one reference to the object behind `handle`, dropping it with
/// the last one (once its running calls end). Unknown handles (already
/// freed, or 0) are a no-op; a handle of another type is refused.
pub fn release<T: FfiObject>(handle: u64) -> Result<(), Fault> {
    let removed = {
        let mut registry = registry();
        let Some(entry) = registry.entries.get_mut(&handle) else {
            return Ok(());
        };
        if entry.type_id != TypeId::of::<T>() {
            return Err(Fault::invalid(
                "handle",
                format_args!(
                    "handle {handle} is a `{}`, not a `{}`",
                    entry.type_name,
                    short_type_name::<T>()
                ),
            ));
        }
        entry.refs -= 1;
        if entry.refs > 0 {
            return Ok(());
        }
        if entry.reserved != 0 {
            // A call is moving it (by value) and has checked it: the call
            // takes it (the move wins), or, failing before that, removes it
            // when it unreserves ([`Moves`]'s drop) — never a stale handle
            // under a reservation.
            entry.close_pending = true;
            return Ok(());
        }
        let removed = registry.entries.remove(&handle);
        if let Some(Entry {
            held: Held::Shared(value),
            ..
        }) = &removed
        {
            let address = Arc::as_ptr(value) as *const () as usize;
            registry.shared.remove(&address);
        }
        removed
    };
    // Dropped outside the registry lock: the object's Drop may take time or
    // call back into exported functions.
    drop(removed);
    Ok(())
}

thread_local! {
    /// The token of the call whose objects this thread is taking (0:
    /// none): set by [`Moves::taking`] around the lifting of the arguments
    /// it reserved.
    static TAKING: Cell<u64> = const { Cell::new(0) };
}

/// Call tokens: never 0, never reused.
static NEXT_MOVE: AtomicU64 = AtomicU64::new(1);

impl Moves {
    /// No objects moved yet (allocates nothing).
    #[inline]
    pub fn new() -> Moves {
        Moves::default()
    }

    /// Reserves the `T` behind `handle` for this call: a live, owned
    /// (not shared) `T` that no running call borrows, not reserved by any
    /// call (this one included: the same object moved twice). Other calls
    /// touching it are refused until this call takes it or ends.
    pub fn reserve<T: FfiObject>(&mut self, handle: u64) -> Result<(), String> {
        if self.token == 0 {
            self.token = NEXT_MOVE.fetch_add(1, Ordering::Relaxed);
        }
        let name = short_type_name::<T>();
        let mut registry = registry();
        let Some(entry) = registry.entries.get_mut(&handle) else {
            return Err(not_live(handle, name));
        };
        if entry.type_id != TypeId::of::<T>() {
            return Err(format!(
                "handle {handle} is a `{}`, not a `{name}`",
                entry.type_name
            ));
        }
        if entry.reserved == self.token {
            return Err(format!(
                "the same `{name}` is passed by value twice in this call: it can be moved once; \
                 pass two different objects"
            ));
        }
        if entry.reserved != 0 {
            return Err(being_moved(name));
        }
        let object = match &entry.held {
            Held::Owned(object) => object,
            Held::Shared(_) => {
                return Err(format!(
                    "this `{name}` is shared (made by a function returning `Arc<{name}>`, Rust \
                     code may hold it too), so it cannot be moved out: take `Arc<{name}>` as the \
                     parameter type"
                ))
            }
        };
        // Every call borrowing it holds a clone of its `Arc` (taken under
        // this lock, which also refuses reserved entries): one reference
        // means no call borrows it now, and none can until it is taken.
        if Arc::strong_count(object) > 1 {
            return Err(format!(
                "this `{name}` is borrowed by a running call (a method running on it, another \
                 argument of this call, or another thread's call): it can be moved once that \
                 borrow ends"
            ));
        }
        if object.is_poisoned() {
            return Err(format!(
                "this `{name}` is unusable: an earlier call on it panicked mid-way; close it"
            ));
        }
        entry.reserved = self.token;
        self.reserved.push(handle);
        Ok(())
    }

    /// Makes this thread take the objects reserved by this call until the
    /// returned guard drops (around the lifting of its reserved arguments).
    #[must_use]
    pub fn taking(&self) -> Taking {
        Taking(TAKING.with(|taking| taking.replace(self.token)))
    }
}

/// While alive, this thread takes the objects its call reserved
/// ([`Moves::taking`]); dropping it restores what it took before.
#[doc(hidden)]
pub struct Taking(u64);

impl Drop for Taking {
    fn drop(&mut self) {
        TAKING.with(|taking| taking.set(self.0));
    }
}

impl Drop for Moves {
    /// Unreserves what the call reserved and did not take (it failed
    /// before, or the function was not called).
    fn drop(&mut self) {
        if self.reserved.is_empty() {
            return;
        }
        let mut closed = Vec::new();
        let mut registry = registry();
        for handle in &self.reserved {
            if let Some(entry) = registry.entries.get_mut(handle) {
                if entry.reserved == self.token {
                    entry.reserved = 0;
                    if entry.close_pending {
                        closed.extend(registry.entries.remove(handle));
                    }
                }
            }
        }
        drop(registry);
        // Dropped outside the registry lock, as `release` does.
        drop(closed);
    }
}

/// `FfiLift::from_repr` of an object by value: the `T` behind `handle`,
/// moved out of the registry (the handle is then stale). Only an object
/// reserved by the call this thread is taking the arguments of
/// ([`Moves::taking`]).
pub fn take_object<T: FfiObject>(handle: u64) -> Result<T, String> {
    let name = short_type_name::<T>();
    let token = TAKING.with(Cell::get);
    let held = {
        let mut registry = registry();
        let Some(entry) = registry.entries.get(&handle) else {
            return Err(not_live(handle, name));
        };
        if token == 0 || entry.reserved != token || entry.type_id != TypeId::of::<T>() {
            return Err(format!(
                "a `{name}` is moved into Rust only as a parameter taking it by value, or inside \
                 a `Vec`, `Option`, map, tuple or #[export] struct or enum of one (not inside a \
                 set, a `&[T]` slice or a borrowed `&T`)"
            ));
        }
        registry.entries.remove(&handle).map(|entry| entry.held)
    };
    let Some(Held::Owned(object)) = held else {
        return Err(format!("this `{name}` is shared: it cannot be moved out"));
    };
    let raw = Arc::into_raw(object).cast::<Mutex<T>>();
    // SAFETY: the entry's `type_id` is `T`'s, so `register::<T>` made
    // this `Arc` as an `Arc<Mutex<T>>` and unsized it: its data pointer
    // is that of a `Mutex<T>` (`Arc::from_raw`'s contract).
    let object = unsafe { Arc::from_raw(raw) };
    // Reserved with one reference and refused to lookups since: the
    // registry's was the only one.
    match Arc::try_unwrap(object) {
        Ok(mutex) => mutex
            .into_inner()
            .map_err(|_| format!("this `{name}` is unusable: an earlier call on it panicked")),
        Err(_) => Err(format!("this `{name}` is borrowed by a running call")),
    }
}

/// `FfiLift::reserve` of an object by value ([`Moves::reserve`]).
pub fn reserve_object<T: FfiObject>(handle: u64, moves: &mut Moves) -> Result<(), String> {
    moves.reserve::<T>(handle)
}

/// Whether `handle` names a live object (of any type). A caller whose call
/// moving objects by value failed other than with `InvalidArgument` asks
/// it for each one: not live, the call took it (the function ran, then
/// failed or panicked); live, the call failed before taking anything (a
/// poisoned receiver, say), and the object is still the caller's.
#[no_mangle]
pub extern "C" fn ffi_export_object_live(handle: u64) -> bool {
    registry().entries.contains_key(&handle)
}

/// The number of live registry entries of all types (for leak checks).
pub fn live_objects() -> usize {
    registry().entries.len()
}

/// A `&T` parameter: a record or enum with data copied in from a pointer
/// to its C form, or (implemented by `#[export] impl`) an object borrowed
/// from the registry by its handle.
///
/// # Safety
/// `Abi` is the C form `DESC` announces; `hold` checks what it reads.
#[diagnostic::on_unimplemented(
    message = "`&{Self}` cannot be a parameter of an #[export] function",
    label = "unsupported borrowed parameter",
    note = "`&T` takes #[export] structs and enums (copied in) and objects of an #[export] impl (borrowed by handle)",
    note = "take numbers, String and collections by value"
)]
pub unsafe trait FfiBorrow: Sized {
    /// The C argument type.
    type Abi: Copy;
    /// How it is described.
    const DESC: TypeDesc;
    /// Whether the copy would move objects out of the registry (a record
    /// with an object field, [`FfiLift::OBJECTS`]): such a `&T` parameter
    /// is a compile error.
    const MOVES: bool = false;
    /// What the call keeps until the function runs: the copy, or the
    /// object's index in the call's [`ObjectArgs`].
    type Held;
    /// Reads the C argument.
    ///
    /// # Safety
    /// `abi` comes from a caller following the C contract (a pointer in it
    /// is NULL or valid for reads during the call).
    unsafe fn hold(
        abi: Self::Abi,
        param: &'static str,
        objects: &mut ObjectArgs,
    ) -> Result<Self::Held, Fault>;
    /// The borrow handed to the function.
    fn borrow<'a>(held: &'a Self::Held, locked: &'a Locked<'_>) -> Result<&'a Self, Fault>;
}

/// `FfiBorrow` of types copied in from a pointer to their C form (every
/// `FfiLift` type but objects, which are borrowed by handle): one impl per
/// type, since objects are `FfiLift` too (moved in by value). `#[export]`
/// structs and enums get theirs from the macro, through
/// [`borrow_copied`].
macro_rules! copied_borrow {
    ($(impl[$($generics:tt)*] for $ty:ty;)*) => {$(
        // SAFETY: a pointer to the C form, copied in through FfiLift's checks.
        unsafe impl<$($generics)*> FfiBorrow for $ty {
            type Abi = *const <$ty as FfiData>::Repr;
            const DESC: TypeDesc = <$ty as FfiData>::DESC;
            const MOVES: bool = <$ty as FfiLift>::OBJECTS;
            type Held = $ty;
            #[inline]
            unsafe fn hold(
                abi: Self::Abi,
                param: &'static str,
                _: &mut ObjectArgs,
            ) -> Result<$ty, Fault> {
                // SAFETY: forwarded contract: NULL (refused) or readable.
                unsafe { crate::data::lift_by_pointer::<$ty>(abi, param) }
            }
            #[inline]
            fn borrow<'a>(held: &'a $ty, _: &'a Locked<'_>) -> Result<&'a $ty, Fault> {
                Ok(held)
            }
        }
    )*};
}

macro_rules! copied_borrow_numbers {
    ($($t:ident: $class:ident, $kind:literal, $codes:literal;)*) => {
        copied_borrow! { $(impl[] for $t;)* }
    };
}
for_each_primitive!(copied_borrow_numbers);

copied_borrow! {
    impl[] for bool;
    impl[] for String;
    impl[] for i128;
    impl[] for u128;
    impl[T: FfiLift] for Vec<T>;
    impl[T: FfiLift] for Option<T>;
    impl[K: FfiLift + Eq + std::hash::Hash, V: FfiLift, S: std::hash::BuildHasher + Default] for HashMap<K, V, S>;
    impl[K: FfiLift + Ord, V: FfiLift] for std::collections::BTreeMap<K, V>;
    impl[T: FfiLift + Eq + std::hash::Hash, S: std::hash::BuildHasher + Default] for std::collections::HashSet<T, S>;
    impl[T: FfiLift + Ord] for std::collections::BTreeSet<T>;
    impl[A: FfiLift] for (A,);
    impl[A: FfiLift, B: FfiLift] for (A, B);
    impl[A: FfiLift, B: FfiLift, C: FfiLift] for (A, B, C);
    impl[A: FfiLift, B: FfiLift, C: FfiLift, D: FfiLift] for (A, B, C, D);
    impl[A: FfiLift, B: FfiLift, C: FfiLift, D: FfiLift, E: FfiLift] for (A, B, C, D, E);
    impl[A: FfiLift, B: FfiLift, C: FfiLift, D: FfiLift, E: FfiLift, F: FfiLift] for (A, B, C, D, E, F);
    impl[T: FfiObject + Sync] for Arc<T>;
}

/// `FfiBorrow::hold` of a type copied in (an `#[export]` struct or enum):
/// a copy of the caller's C form at `abi`.
///
/// # Safety
/// As [`FfiBorrow::hold`].
#[inline]
pub unsafe fn borrow_copied<T: FfiLift>(
    abi: *const T::Repr,
    param: &'static str,
) -> Result<T, Fault> {
    // SAFETY: forwarded contract: NULL (refused) or readable.
    unsafe { crate::data::lift_by_pointer::<T>(abi, param) }
}

/// `FfiBorrow::hold` of an object: its index in `objects`, borrowed `&T`.
pub fn hold_object<T: FfiObject>(
    handle: u64,
    param: &'static str,
    objects: &mut ObjectArgs,
) -> Result<usize, Fault> {
    objects.hold::<T>(handle, false, param)
}

/// A `&mut T` parameter: an object of an `#[export] impl`, borrowed
/// exclusively from the registry by its handle.
///
/// # Safety
/// As [`FfiBorrow`].
#[diagnostic::on_unimplemented(
    message = "`&mut {Self}` cannot be a parameter of an #[export] function",
    label = "only objects of an #[export] impl can be borrowed `&mut`",
    note = "#[export] structs and enums are copied in, so changes would be lost: take one by value and return the changed copy"
)]
pub unsafe trait FfiBorrowMut: Sized {
    /// The C argument type.
    type Abi: Copy;
    /// How it is described.
    const DESC: TypeDesc;
    /// Reads the C argument: the object's index in `objects`.
    ///
    /// # Safety
    /// As [`FfiBorrow::hold`].
    unsafe fn hold_mut(
        abi: Self::Abi,
        param: &'static str,
        objects: &mut ObjectArgs,
    ) -> Result<usize, Fault>;
    /// The borrow handed to the function.
    #[allow(clippy::mut_from_ref)]
    fn borrow_mut<'a>(held: &'a usize, locked: &'a Locked<'_>) -> Result<&'a mut Self, Fault>;
}

// SAFETY: a handle, checked by the registry.
unsafe impl<T: FfiObject> FfiBorrowMut for T {
    type Abi = u64;
    const DESC: TypeDesc = <T as FfiObject>::DESC;
    #[inline]
    unsafe fn hold_mut(
        abi: u64,
        param: &'static str,
        objects: &mut ObjectArgs,
    ) -> Result<usize, Fault> {
        objects.hold::<T>(abi, true, param)
    }
    #[inline]
    fn borrow_mut<'a>(held: &'a usize, locked: &'a Locked<'_>) -> Result<&'a mut T, Fault> {
        locked.get_mut::<T>(*held)
    }
}

impl<T: FfiObject> crate::data::FfiArcRepr for T {
    type Repr = u64;
}

// SAFETY: a shared object's handle, released once per handle handed out
// through `<Type>_free`; a handle read back is checked by the registry and
// a clone of the `Arc` taken (the caller keeps its reference).
unsafe impl<T: FfiObject + Sync> crate::data::FfiArcData for T {
    const DESC: TypeDesc = TypeDesc::Shared(&<T as FfiObject>::DESC);
    fn arc_into_repr(value: Arc<T>) -> u64 {
        register_shared(value)
    }
    unsafe fn arc_from_repr(repr: &u64) -> Result<Arc<T>, String> {
        shared_value(*repr)
    }
}

// SAFETY: a handle, checked by the registry.
unsafe impl<T: FfiObject + Sync> crate::convert::FfiArcParam for T {
    type Abi = u64;
    const DESC: TypeDesc = TypeDesc::Shared(&<T as FfiObject>::DESC);
    unsafe fn lift_arc(abi: u64, param: &'static str) -> Result<Arc<T>, Fault> {
        shared(abi, param)
    }
}

copied_elems! {
    impl[T: FfiObject + Sync] for Arc<T>;
}
#[cfg(test)]
mod tests {
    use super::*;

    struct Counter(u32);
    impl FfiObject for Counter {
        const DESC: TypeDesc = TypeDesc::Unit;
    }
    struct Other;
    impl FfiObject for Other {
        const DESC: TypeDesc = TypeDesc::Unit;
    }

    #[test]
    fn handles_are_checked() {
        let counter = register(Counter(1));
        let other = register(Other);
        assert_eq!(
            with_object::<Counter, _>(counter, true, |c| {
                c.0 += 1;
                c.0
            }),
            Ok(2)
        );
        assert!(
            matches!(with_object::<Counter, _>(other, true, |c| c.0), Err(Fault::InvalidArgument(m)) if m.contains("is a `Other`"))
        );
        assert!(release::<Counter>(other).is_err());
        assert_eq!(release::<Counter>(counter), Ok(()));
        assert_eq!(release::<Counter>(counter), Ok(()));
        assert!(
            matches!(with_object::<Counter, _>(counter, true, |c| c.0), Err(Fault::InvalidArgument(m)) if m.contains("not a live"))
        );
        assert_eq!(release::<Other>(other), Ok(()));
    }

    #[test]
    fn reentrant_calls_are_refused() {
        let id = register(Counter(0));
        let inner =
            with_object::<Counter, _>(id, false, |_| with_object::<Counter, _>(id, true, |c| c.0));
        assert!(matches!(inner, Ok(Err(Fault::InvalidArgument(m))) if m.contains("re-entrant")));
        assert_eq!(with_object::<Counter, _>(id, false, |c| c.0), Ok(0));
        assert_eq!(release::<Counter>(id), Ok(()));
    }

    #[test]
    fn one_object_borrowed_mutably_twice_is_refused_and_two_shared_borrows_share_it() {
        let id = register(Counter(3));
        let mut args = ObjectArgs::new();
        assert_eq!(args.hold::<Counter>(id, false, "a"), Ok(0));
        assert_eq!(args.hold::<Counter>(id, false, "b"), Ok(1));
        let both = args.call(|locked| {
            let (a, b) = (locked.get::<Counter>(0)?, locked.get::<Counter>(1)?);
            Ok(std::ptr::eq(a, b))
        });
        assert_eq!(both, Ok(true));
        let mut args = ObjectArgs::new();
        args.hold::<Counter>(id, true, "self").unwrap();
        assert!(
            matches!(args.hold::<Counter>(id, false, "other"), Err(Fault::InvalidArgument(m)) if m.contains("argument `other`: the same `Counter` is also passed as `self`"))
        );
        // A `&mut` slot is handed out once.
        let twice = args.call(|locked| {
            let _first = locked.get_mut::<Counter>(0)?;
            locked.get_mut::<Counter>(0).map(|_| ())
        });
        assert!(matches!(twice, Err(Fault::Panic(m)) if m.contains("borrowed twice")));
        assert_eq!(release::<Counter>(id), Ok(()));
    }

    #[test]
    fn shared_values_get_one_handle_per_arc_and_are_released_with_their_last_reference() {
        struct Shared(u32);
        impl FfiObject for Shared {
            const DESC: TypeDesc = TypeDesc::Unit;
        }
        let value = Arc::new(Shared(7));
        let first = register_shared(value.clone());
        let second = register_shared(value.clone());
        assert_eq!(first, second);
        assert_eq!(Arc::strong_count(&value), 2);
        assert_eq!(shared::<Shared>(first, "x").map(|v| v.0), Ok(7));
        let mut args = ObjectArgs::new();
        assert!(
            matches!(args.hold::<Shared>(first, true, "self"), Err(Fault::InvalidArgument(m)) if m.contains("is shared"))
        );
        assert_eq!(release::<Shared>(first), Ok(()));
        assert_eq!(Arc::strong_count(&value), 2);
        assert_eq!(release::<Shared>(first), Ok(()));
        assert_eq!(Arc::strong_count(&value), 1);
        // A new registration after the last release gets a new handle.
        let third = register_shared(value.clone());
        assert_ne!(third, first);
        assert_eq!(release::<Shared>(third), Ok(()));
        let owned = register(Counter(1));
        assert!(
            matches!(shared::<Shared>(owned, "x"), Err(Fault::InvalidArgument(m)) if m.contains("is a `Counter`"))
        );
        assert_eq!(release::<Counter>(owned), Ok(()));
    }

    #[test]
    fn moves_reserve_then_take_and_undo_what_they_did_not_take() {
        let (a, b) = (register(Counter(1)), register(Counter(2)));
        // Reserved, then the call fails: both stay usable.
        {
            let mut moves = Moves::new();
            assert_eq!(moves.reserve::<Counter>(a), Ok(()));
            assert!(
                matches!(moves.reserve::<Counter>(a), Err(m) if m.contains("passed by value twice"))
            );
            assert_eq!(moves.reserve::<Counter>(b), Ok(()));
            // Refused to other calls meanwhile.
            assert!(
                matches!(with_object::<Counter, _>(a, false, |c| c.0), Err(Fault::InvalidArgument(m)) if m.contains("being moved"))
            );
            assert!(
                matches!(Moves::new().reserve::<Counter>(b), Err(m) if m.contains("being moved"))
            );
            // Not taken outside `taking`.
            assert!(
                matches!(take_object::<Counter>(a), Err(m) if m.contains("moved into Rust only"))
            );
        }
        assert_eq!(with_object::<Counter, _>(a, false, |c| c.0), Ok(1));
        // Borrowed by a running call: refused.
        let inner = with_object::<Counter, _>(a, false, |_| Moves::new().reserve::<Counter>(a));
        assert!(matches!(inner, Ok(Err(m)) if m.contains("borrowed by a running call")));
        // Reserved and taken: the handle is stale, the other is unreserved.
        let mut moves = Moves::new();
        assert_eq!(moves.reserve::<Counter>(a), Ok(()));
        assert_eq!(moves.reserve::<Counter>(b), Ok(()));
        let taken = {
            let _taking = moves.taking();
            take_object::<Counter>(a).map(|c| c.0)
        };
        assert_eq!(taken, Ok(1));
        drop(moves);
        assert!(matches!(lookup::<Counter>(a), Err(m) if m.contains("moved into a Rust call")));
        assert_eq!(release::<Counter>(a), Ok(()));
        assert_eq!(with_object::<Counter, _>(b, false, |c| c.0), Ok(2));
        // A shared value cannot be moved.
        let shared_one = register_shared(Arc::new(Counter(3)));
        assert!(
            matches!(Moves::new().reserve::<Counter>(shared_one), Err(m) if m.contains("take `Arc<Counter>`"))
        );
        assert!(matches!(Moves::new().reserve::<Other>(b), Err(m) if m.contains("is a `Counter`")));
        assert_eq!(release::<Counter>(shared_one), Ok(()));
        assert_eq!(release::<Counter>(b), Ok(()));
    }

    #[test]
    fn a_close_racing_a_move_never_leaves_a_stale_handle_under_a_reservation() {
        // Closed (released) while reserved, then the call fails before
        // taking it: the entry goes when the reservation does.
        let a = register(Counter(1));
        {
            let mut moves = Moves::new();
            assert_eq!(moves.reserve::<Counter>(a), Ok(()));
            assert_eq!(release::<Counter>(a), Ok(()));
            assert!(ffi_export_object_live(a), "kept while reserved");
        }
        assert!(!ffi_export_object_live(a));
        // Closed while reserved, then taken: the move wins, once.
        let b = register(Counter(2));
        let mut moves = Moves::new();
        assert_eq!(moves.reserve::<Counter>(b), Ok(()));
        assert_eq!(release::<Counter>(b), Ok(()));
        let taken = {
            let _taking = moves.taking();
            take_object::<Counter>(b).map(|c| c.0)
        };
        assert_eq!(taken, Ok(2));
        drop(moves);
        assert!(!ffi_export_object_live(b));
        assert_eq!(
            release::<Counter>(b),
            Ok(()),
            "a stale handle's free is a no-op"
        );
    }

    #[test]
    fn a_panic_poisons_only_the_mutable_borrows() {
        let (a, b) = (register(Counter(1)), register(Counter(2)));
        let mut args = ObjectArgs::new();
        args.hold::<Counter>(a, true, "a").unwrap();
        args.hold::<Counter>(b, false, "b").unwrap();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            args.call(|_| -> Result<(), Fault> { panic!("boom") })
        }));
        assert!(outcome.is_err());
        assert!(
            matches!(with_object::<Counter, _>(a, false, |c| c.0), Err(Fault::Panic(m)) if m.contains("unusable"))
        );
        assert_eq!(with_object::<Counter, _>(b, false, |c| c.0), Ok(2));
        assert_eq!(release::<Counter>(a), Ok(()));
        assert_eq!(release::<Counter>(b), Ok(()));
    }
}
