"""Objects as parameters (``&T``, ``&mut T``, including the receiver's own
type) and shared objects (``Arc<T>`` in results, parameters, record fields,
``Vec`` and ``Option``), on both call paths: aliasing refused by name,
closed and foreign objects refused by name, equal Python objects for one
``Arc``, and every value freed exactly once (``live()`` counters)."""

from __future__ import annotations

import gc
import threading

import pytest

import ffi_export
from paths import any_lib  # noqa: F401 - fixture


@pytest.fixture
def m(any_lib):  # noqa: F811 - the fixture
    yield any_lib.shared_objects
    gc.collect()
    assert any_lib.shared_objects.Item.live() == 0
    assert any_lib.shared_objects.Tally.live() == 0


def test_object_parameters_borrow_the_objects(m) -> None:
    a, b = m.Tally(5), m.Tally(7)
    assert a.absorb(b) == 12 and (a.get(), b.get()) == (12, 7)
    assert a.give(b, 2) == 10 and b.get() == 9
    assert m.tally_sum(a, b) == 19
    assert m.tally_transfer(a, b, 1) == 10 and a.get() == 9
    # Two `&` borrows of one object are fine, and borrow the very same value.
    assert m.tally_sum(a, a) == 18
    assert a.same(a) and not a.same(b)
    a.close(); b.close()


@pytest.mark.parametrize("call, victim", [
    (lambda m, a: a.absorb(a), "other"),
    (lambda m, a: a.give(a, 1), "other"),
    (lambda m, a: m.tally_transfer(a, a, 1), "to"),
])
def test_one_object_borrowed_mutably_twice_is_refused(m, call, victim) -> None:
    a = m.Tally(3)
    with pytest.raises(ffi_export.InvalidArgument, match=f"argument `{victim}`: the same `Tally` is also passed as"):
        call(m, a)
    assert a.get() == 3  # nothing ran, nothing stays locked
    a.close()


def test_closed_and_foreign_objects_are_refused_by_name(m) -> None:
    a, c = m.Tally(1), m.Tally(2)
    c.close()
    with pytest.raises(ValueError, match="argument 'other': this Tally is closed"):
        a.absorb(c)
    with pytest.raises(TypeError, match="argument 'other' must be a Tally, not str"):
        a.absorb("c")
    item = m.Item("i", 1)
    with pytest.raises(TypeError, match="argument 'b' must be a Tally, not Item"):
        m.tally_sum(a, item)
    with pytest.raises(TypeError, match="argument 'item' must be a Item, not Tally"):
        m.Shelf().put(a)
    with pytest.raises(TypeError, match=r"argument 'items'\[1\] must be a Item, not NoneType"):
        m.Shelf().put_all([item, None])
    a.close()


def test_a_panic_poisons_only_the_mutably_borrowed_object(m) -> None:
    a, b = m.Tally(1), m.Tally(2)
    with pytest.raises(ffi_export.RustPanic, match="explode_with: other is 2"):
        a.explode_with(b)
    assert b.get() == 2 and b.add(1) == 3
    with pytest.raises(ffi_export.RustPanic, match="unusable"):
        a.get()
    a.close(); b.close()


def test_reentrant_call_through_a_callback_is_an_error_not_a_deadlock(m) -> None:
    a, b = m.Tally(1), m.Tally(2)
    assert a.poke(lambda: b.get()) == 3
    with pytest.raises(ffi_export.FfiError):
        a.poke(lambda: a.add(1))
    assert a.get() == 1
    a.close(); b.close()


def test_shared_objects_compare_equal_and_are_freed_once(m) -> None:
    item = m.Item("x", 3)
    shelf = m.Shelf()
    assert shelf.put(item) == 1 and shelf.put(item) == 2
    first, second = shelf.items()
    assert first == second == item and hash(first) == hash(item)
    assert item.me() == item and item.me() is not item
    assert m.Item("x", 3) != item
    assert item.holders() == 4  # the registry's, this call's, the shelf's two
    assert shelf.find("x") == item and shelf.find("y") is None
    del first, second
    item.set(10)
    assert shelf.total() == 20
    del item
    gc.collect()
    assert m.Item.live() == 1  # the shelf holds it
    (held,) = shelf.items()[:1]
    assert held.value() == 10
    del held
    shelf.clear()
    gc.collect()
    assert m.Item.live() == 0


def test_shared_objects_in_records_vectors_and_options(m) -> None:
    item = m.Item("t", 4)
    tagged = m.tag_item("tag", item)
    assert tagged.item == item and m.tagged_value(tagged) == 4
    assert m.maybe_value(None) == -1 and m.maybe_value(item) == 4
    shelf = m.Shelf()
    assert shelf.put_all([item, m.Item("u", 1), item]) == 3
    assert [i.name() for i in shelf.items()] == ["t", "u", "t"]
    a = m.Tally(2)
    assert m.tally_plus_item(a, item) == 6
    a.close()


def test_shared_objects_refuse_mutable_borrows(m) -> None:
    item = m.Item("s", 1)
    with pytest.raises(ffi_export.InvalidArgument, match=r"argument `self`: this `Item` is shared"):
        item.rename("t")
    assert item.name() == "s"
    owned = m.Tally(1)
    with pytest.raises(AttributeError):
        owned.me()  # noqa: B018 - Tally has no shared methods
    owned.close()


def test_threads_pass_shared_objects_while_rust_holds_them(m) -> None:
    shelf = m.Shelf()
    items = [m.Item(f"i{n}", n) for n in range(8)]
    errors = []

    def work(seed: int) -> None:
        try:
            for round_ in range(200):
                mine = items[(seed + round_) % len(items)]
                shelf.put(mine)
                mine.set(mine.value())
                for held in shelf.items()[-3:]:
                    assert held.name().startswith("i")
                if round_ % 50 == 49:
                    shelf.clear()
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    shelf.clear()
    del items
    gc.collect()
    assert m.Item.live() == 0


def test_threads_borrow_owned_objects_in_both_orders_without_deadlock(m) -> None:
    a, b = m.Tally(0), m.Tally(0)

    def work(first, second) -> None:
        for _ in range(500):
            first.absorb(second)
            m.tally_transfer(first, second, 0)

    threads = [threading.Thread(target=work, args=pair) for pair in ((a, b), (b, a))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
        assert not thread.is_alive()
    a.close(); b.close()


def test_temporary_objects_live_until_the_call_returns(m) -> None:
    # The argument's only reference is the call's: it must not be freed
    # (releasing its handle) before Rust reads it.
    assert m.Tally(1).absorb(m.Tally(2)) == 3
    assert m.shared_count(m.Tally.new_shared(5)) == 5
    assert m.tagged_value(m.tag_item("t", m.Item("x", 7))) == 7
    shelf = m.Shelf()
    assert shelf.put_all(m.Item(str(n), n) for n in range(3)) == 3
    assert shelf.total() == 3
    shelf.clear()


def test_an_owned_object_is_not_shared(m) -> None:
    with pytest.raises(ffi_export.InvalidArgument, match="argument `tally`: this `Tally` is not shared"):
        m.shared_count(m.Tally(1))
    shared = m.Tally.new_shared(2)
    assert shared.get() == 2 and m.tally_sum(shared, shared) == 4
    with pytest.raises(ffi_export.InvalidArgument, match="this `Tally` is shared"):
        shared.add(1)


def test_an_async_method_of_a_shared_object_owns_an_arc_of_it(any_lib) -> None:
    import asyncio

    so = any_lib.shared_objects
    item = so.Item("i", 5)

    async def main():
        first, second = await asyncio.gather(item.value_later(50), item.value_later(50))
        item.set(9)  # no lock is held by the futures
        return first, second, await item.value_later(1)

    assert asyncio.run(main()) == (5, 5, 9)
    item.close()
    gc.collect()
    assert so.Item.live() == 0
