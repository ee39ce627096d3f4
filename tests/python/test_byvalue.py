"""Objects moved into Rust by value (``T``, ``Vec<T>``, ``Option<T>``, maps
and ``#[export]`` struct fields holding objects), on both call paths: the
Python objects close and name the call that took them; a call that refuses
any of its arguments moves nothing (every object stays usable); shared,
repeated, borrowed and re-entrant objects are refused by name; a panic or
an ``Err`` after the move drops the values once; records with object fields
come back holding Python objects; threads racing to move one object: one
wins, the others get a clear error. ``live()`` and the registry's entry
count prove every value freed exactly once."""

from __future__ import annotations

import gc
import re
import threading

import pytest

import ffi_export
from paths import any_lib  # noqa: F401 - fixture


@pytest.fixture
def m(any_lib):  # noqa: F811 - the fixture
    gc.collect()
    entries = any_lib.byvalue.registry_entries()
    yield any_lib.byvalue
    gc.collect()
    assert any_lib.byvalue.Part.live() == 0
    assert any_lib.byvalue.registry_entries() == entries


def parts(m, count: int, start: int = 0) -> list:
    return [m.Part(f"p{i}", i) for i in range(start, start + count)]


def test_a_moved_object_closes_and_names_the_call_that_took_it(m) -> None:
    machine, part = m.Machine(), m.Part("wheel", 3)
    handle = part._handle
    assert machine.adopt(part) == 1 and part.closed and machine.weight() == 3
    type(part)._ffi_free(handle)  # the consumed handle, freed anyway: a no-op
    with pytest.raises(ValueError, match=r"^this Part is closed: it was moved into a Rust call "
                                         r"\(Machine\.adopt, argument 'part'\)$"):
        part.weight()
    with pytest.raises(ValueError, match=r"^argument 'part': this Part is closed: it was moved into a Rust "
                                         r"call \(Machine\.adopt, argument 'part'\)$"):
        m.weigh(part)
    part.close()  # harmless: Rust owns the value now
    assert m.Part.live() == 1 and machine.names() == ["wheel"]
    machine.close()


def test_vectors_options_and_maps_move_every_object(m) -> None:
    items = parts(m, 4)
    assert m.total(items) == 6 and all(p.closed for p in items)
    with pytest.raises(ValueError, match=r"moved into a Rust call \(total, argument 'parts'\[2\]\)"):
        items[2].name()
    one = m.Part("one", 9)
    assert m.maybe_weigh(None) == -1 and m.maybe_weigh(one) == 9 and one.closed
    named = {"a": m.Part("a", 1), "b": m.Part("b", 2)}
    assert m.named_total(named) == 3 and all(p.closed for p in named.values())
    machine = m.Machine()
    batch = parts(m, 3)
    assert machine.adopt_all(batch) == 3 and machine.names() == ["p0", "p1", "p2"]
    # Given back: new Python objects of the same values.
    back = machine.release_parts()
    assert [p.name() for p in back] == ["p0", "p1", "p2"] and machine.weight() == 0
    assert m.total(back) == 3


def test_a_refused_call_moves_nothing(m) -> None:
    shared = m.Part.new_shared("shared", 100)
    items = parts(m, 3) + [shared]
    with pytest.raises(ffi_export.InvalidArgument,
                       match=r"argument `parts`: item 3: this `Part` is shared .* take `Arc<Part>` as the "
                             r"parameter type"):
        m.total(items)
    assert not any(p.closed for p in items)
    assert [p.weight() for p in items[:3]] == [0, 1, 2]
    # A later parameter refused after the first was reserved.
    part, owned = m.Part("part", 1), m.Part("owned", 2)
    with pytest.raises(ffi_export.InvalidArgument, match=r"argument `parent`: this `Part` is not shared"):
        m.attach(part, owned, m.Part("extra", 3))
    assert not part.closed and not owned.closed
    assert m.attach(part, shared, None) == 101 and part.closed and not shared.closed
    # A closed object later in the list: the helper refuses it before the call.
    items[1].close()
    with pytest.raises(ValueError, match=r"^argument 'parts'\[1\]: this Part is closed$"):
        m.total(items[:3])
    assert not items[0].closed and not items[2].closed
    assert m.total([items[0], items[2]]) == 2
    shared.close(); owned.close()


def test_the_same_object_twice_or_also_borrowed_is_refused(m) -> None:
    part = m.Part("p", 4)
    with pytest.raises(ffi_export.InvalidArgument,
                       match=r"argument `second`: the same `Part` is passed by value twice in this call"):
        m.pair_weight(part, part)
    with pytest.raises(ffi_export.InvalidArgument, match=r"argument `parts`: item 1: the same `Part` is passed"):
        m.total([part, part])
    with pytest.raises(ffi_export.InvalidArgument,
                       match=r"argument `scale`: this `Part` is being moved into a Rust call"):
        m.weigh_into(part, part)
    assert not part.closed and part.weight() == 4
    scale = m.Part("scale", 10)
    assert m.weigh_into(part, scale) == 14 and part.closed and scale.weight() == 14
    scale.close()


def test_an_object_borrowed_by_a_running_call_is_refused(m) -> None:
    machine, part = m.Machine(), m.Part("p", 1)
    failures = []

    def poke() -> int:
        try:
            machine.adopt(part)
        except ffi_export.InvalidArgument as error:
            failures.append(str(error))
        return 0

    assert part.poke(poke) == 1
    assert failures and "this `Part` is borrowed by a running call" in failures[0]
    assert not part.closed and machine.adopt(part) == 1
    machine.close()


def test_a_panic_or_an_error_after_the_move_drops_the_value_once(m) -> None:
    part = m.Part("boom", 2)
    with pytest.raises(ffi_export.RustPanic, match="weigh_and_panic: boom weighs 2"):
        m.weigh_and_panic(part)
    assert part.closed and m.Part.live() == 0
    part = m.Part("no", 1)
    with pytest.raises(ffi_export.FfiError, match="no refused"):
        m.weigh_or_fail(part, True)
    assert part.closed and m.Part.live() == 0
    part = m.Part("yes", 5)
    assert m.weigh_or_fail(part, False) == 5 and part.closed


def test_a_call_failing_before_its_function_runs_moves_nothing(m) -> None:
    # A poisoned receiver fails the call (RustPanic) after the part was
    # reserved, before it is taken: the part stays the caller's.
    machine, part = m.Machine(), m.Part("p", 2)
    with pytest.raises(ffi_export.RustPanic, match="machine exploded"):
        machine.explode()
    with pytest.raises(ffi_export.RustPanic, match="unusable"):
        machine.adopt(part)
    with pytest.raises(ffi_export.RustPanic, match="unusable"):
        machine.adopt_all([part, m.Part("q", 1)])
    assert not part.closed and part.weight() == 2
    assert m.weigh(part) == 2 and part.closed
    machine.close()


def test_records_with_object_fields(m) -> None:
    kit = m.make_kit("k", 10, 2)
    assert isinstance(kit.main, m.Part) and kit.main.name() == "k-main" and kit.extra is None
    assert [p.name() for p in kit.spares] == ["k-spare0", "k-spare1"]
    inner = [kit.main, *kit.spares]
    assert m.kit_weight(kit) == 11 and all(p.closed for p in inner)
    with pytest.raises(ValueError, match=r"kit_weight, argument 'kit'\.spares\[1\]"):
        inner[2].weight()
    # Built in Python, passed, given back as new objects.
    kit = m.Kit(label="mine", main=m.Part("main", 7), spares=parts(m, 2), extra=m.Part("x", 1))
    again = m.relabel(kit, "theirs")
    assert kit.main.closed and kit.extra.closed and again.label == "theirs"
    assert again.main.name() == "main" and again.extra.weight() == 1
    assert [p.name() for p in m.unpack(again)] == ["main", "p0", "p1", "x"]
    # A refused element of a Vec of records moves none of them.
    shared = m.Part.new_shared("s", 1)
    kits = [m.make_kit("a", 1, 1), m.Kit(label="b", main=shared, spares=[], extra=None)]
    with pytest.raises(ffi_export.InvalidArgument,
                       match=r"argument `kits`: item 1: field `main`: this `Part` is shared"):
        m.kits_weight(kits)
    assert not kits[0].main.closed and not kits[0].spares[0].closed
    assert m.kits_weight(kits[:1]) == 1 and kits[0].main.closed
    shared.close()


def test_records_reaching_each_other_move_objects_at_any_depth(m) -> None:
    deep = m.Part("deep", 5)
    rack = m.Rack(bins=[m.Bin(part=m.Part("top", 1), racks=[m.Rack(bins=[m.Bin(part=deep, racks=[])])])])
    assert m.rack_weight(rack) == 6 and deep.closed
    shared, kept = m.Part.new_shared("s", 1), m.Part("kept", 2)
    rack = m.Rack(bins=[m.Bin(part=kept, racks=[m.Rack(bins=[m.Bin(part=shared, racks=[])])])])
    with pytest.raises(ffi_export.InvalidArgument,
                       match=r"argument `rack`: field `bins`: item 0: field `racks`: item 0: field `bins`: item 0: "
                             r"field `part`: this `Part` is shared"):
        m.rack_weight(rack)
    assert not kept.closed and kept.weight() == 2
    shared.close(); kept.close()


def test_enums_with_object_fields(m) -> None:
    part = m.Part("p", 4)
    slot = m.label_part("tag", part)
    assert part.closed and isinstance(slot, m.Slot.Labeled) and slot.label == "tag"
    inner = slot.part
    assert inner.name() == "p" and m.slot_weight(slot) == 4 and inner.closed
    filled = m.Part("f", 2)
    assert m.slot_weight(m.Slot.Filled(filled)) == 2 and filled.closed
    assert m.slot_weight(m.Slot.Empty()) == 0
    shared = m.Part.new_shared("s", 1)
    with pytest.raises(ffi_export.InvalidArgument, match=r"argument `slot`: Filled\._0: this `Part` is shared"):
        m.slot_weight(m.Slot.Filled(shared))
    shared.close()


def test_threads_racing_to_move_one_object(m) -> None:
    # Four threads move one part while (every other round) a fifth reads it:
    # among movers alone exactly one wins; a reader holding it makes the
    # movers fail instead (it is borrowed). Every loser gets a clear error,
    # and nothing is lost or dropped twice.
    for round_ in range(60):
        part = m.Part("race", 1)
        machines = [m.Machine() for _ in range(4)]
        outcomes: list[object] = []
        start = threading.Barrier(len(machines) + 1)

        def run(machine) -> None:
            start.wait()
            try:
                outcomes.append(("adopted", machine.adopt(part)))
            except (ffi_export.InvalidArgument, ValueError) as error:
                outcomes.append(error)

        def use() -> None:
            start.wait()
            if round_ % 2:
                try:
                    outcomes.append(("read", part.weight()))
                except (ffi_export.InvalidArgument, ValueError) as error:
                    outcomes.append(error)

        threads = [threading.Thread(target=run, args=(machine,)) for machine in machines]
        threads.append(threading.Thread(target=use))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        adopted = outcomes.count(("adopted", 1))
        assert adopted == 1 if round_ % 2 == 0 else adopted <= 1
        assert sum(machine.weight() for machine in machines) == adopted and part.closed == bool(adopted)
        errors = [o for o in outcomes if isinstance(o, Exception)]
        assert len(errors) == len(outcomes) - adopted - outcomes.count(("read", 1))
        assert all(re.search(r"being moved|borrowed by a running call|moved into a Rust call|not a live", str(e))
                   for e in errors), errors
        part.close()
        for machine in machines:
            machine.close()
