"""A typed client of the all-types test library through its generated
module (`tests_typed`): records, enums, enums with data, objects, options,
callbacks, string lists, batches, typed errors, same-named items of two
Rust modules, all checked by mypy --strict."""
import array
import asyncio
from typing import Awaitable, Callable, Coroutine, Dict, List

import ffi_export

import tests_typed as t


def describe(shape: t.Shape) -> str:
    match shape:
        case t.Shape.Circle(radius=radius):
            return f"circle {radius}"
        case t.Shape.Rect():
            return f"rect {shape.width}x{shape.height}"
        case t.Shape.Polygon():
            return f"polygon {shape._0} {shape._1}"
    return "empty"


def names() -> str:
    """Same-named items of two Rust modules, each by its module path."""
    plane: t.geometry.Spot = t.geometry.Spot(x=1.5, y=2.5)
    screen: t.sprites.Spot = t.to_screen(plane, t.sprites.Layer.Air)
    space: t.geometry.solid.Spot = t.geometry.solid.lift(plane, 3.0)
    cell: t.geometry.Cell = t.geometry.cell_of(plane)
    tile: int | None = t.sprites.tile_of(t.sprites.Figure.Tile(t.sprites.Cell(sheet=1, tile=7)))
    with t.geometry.Canvas() as canvas, t.sprites.Canvas(4) as screen_canvas:
        drawn = canvas.draw(plane) + screen_canvas.place(t.sprites.Cell(sheet=0, tile=1))
    badge: t.Badge = t.Badge(text="hi")
    areas = (t.geometry.area(2.0, 3.0), t.sprites.area(2, 3), t.sprites_area(2, 3), t.area(t.Shape.Empty()))
    flat: t.Lonely = t.unmentioned.Lonely(label="x")
    return (f"{screen.px},{screen.py} {space.z} {cell.row} {tile} {drawn} {areas} {t.badge_twice(badge)} "
            f"{flat.label} {t.sprites.Badge(icon=3).icon}")


def shared() -> str:
    """Objects as parameters and shared objects (`Arc<T>`)."""
    so = t.shared_objects
    a, b = so.Tally(5), so.Tally(7)
    total: int = a.absorb(b) + so.tally_sum(a, b)
    item: t.Item = so.Item("x", 3)
    shelf: t.Shelf = so.Shelf()
    shelf.put(item)
    items: list[t.Item] = shelf.items()
    found: t.Item | None = shelf.find("x")
    tagged: t.Tagged = so.tag_item("t", item)
    same = items[0] == item and found == item and tagged.item == item and hash(item.me()) == hash(item)
    shelf.clear()
    a.close()
    b.close()
    return f"{total} {same} {so.maybe_value(None)} {so.shared_count(so.Tally.new_shared(2))}"


def moved() -> str:
    """Objects moved into Rust by value: parameters, `Vec`, records."""
    bv = t.byvalue
    machine: t.Machine = bv.Machine()
    part: t.Part = bv.Part("wheel", 3)
    count: int = machine.adopt(part)
    parts: list[t.Part] = [bv.Part("a", 1), bv.Part("b", 2)]
    total: int = bv.total(parts)
    kit: t.Kit = bv.make_kit("k", 5, 1)
    spares: list[t.Part] = kit.spares
    extra: t.Part | None = kit.extra
    weight: int = bv.kit_weight(t.Kit(label="mine", main=bv.Part("m", 4), spares=spares, extra=extra))
    back: list[t.Part] = machine.release_parts()
    machine.close()
    return f"{count} {part.closed} {total} {weight} {[p.name() for p in back]}"


class Recorder:
    """Implements the Rust trait `Listener` (the stubs' `t.Listener` Protocol)."""

    def __init__(self) -> None:
        self.kinds: list[str] = []

    def on_event(self, event: t.Event) -> None:
        self.kinds.append(event.kind)

    def name(self) -> str:
        return "recorder"

    def limit(self, hint: int | None) -> int | None:
        return hint


def traits() -> str:
    """A Python implementation of a Rust trait, a Rust one, stored closures."""
    recorder = Recorder()
    listener: t.Listener = recorder
    with t.Bus.new() as bus:
        bus.subscribe(listener)
        failures: list[str] = bus.publish("k", 0)
        named: str = t.notify_once(recorder, "n")
    button = t.make_button("b")
    pressed: str = t.press_on_thread(button, 2)
    t.add_handler(lambda text, values: f"{text}{len(values)}")
    results: list[str | None] = t.run_handlers("h")
    t.clear_handlers()
    return f"{recorder.kinds} {failures} {named} {pressed} {results}"


class Pressable:
    """Implements the Rust trait `Button` (the stubs' `t.Button` Protocol)."""

    def press(self, times: int) -> str:
        return f"pressed {times}"

    def label(self) -> str:
        return "py"


def nested() -> str:
    """Trait objects and closures inside lists, dicts, options and records,
    both ways: `Sequence[Protocol]`, `Optional[...]`, `Callable` in a dict."""
    recorder = Recorder()
    answers: list[str] = t.notify_all([recorder, recorder], "k")
    maybe: str | None = t.maybe_notify(None, "k")
    steps: dict[str, int] = t.apply_steps({"inc": lambda x: x + 1}, 1)
    add: Callable[[int], int] = t.adder(2)
    named: dict[str, Callable[[int], int]] = t.named_steps()
    hooks = t.Hooks(name="h", listener=recorder, buttons=[Pressable(), t.make_button("r")], step=add)
    step: Callable[[int], int] | None = hooks.step
    buttons: list[t.Button] = hooks.buttons
    ran = t.run_hooks(hooks, 1)
    listeners: list[t.Listener] = t.Panel.new().listeners()
    return f"{answers} {maybe} {steps} {add(1)} {sorted(named)} {step is add} {len(buttons)} {ran} {listeners}"


def fn_refs() -> str:
    """`&dyn Fn` callbacks borrowed for one call: typed arguments and results."""
    total: int = t.sum_parsed("1 22", len)

    def describe(event: t.Event) -> str | None:
        return None if event.seq else event.kind

    described: List[str] = t.describe_events(["a", "b"], describe)
    seen: List[int] = []
    count: int = t.visit_all([1, 2], lambda pair, index, running: seen.append(index))
    return f"{total} {described} {count} {seen} {t.twice('x', lambda s: s + '!')}"


async def awaited() -> str:
    """Async exports: coroutines whose awaited values are typed."""
    pending: Coroutine[object, object, int] = t.add_later(1, 2)
    total: int = await pending
    counts: Dict[str, int] = await t.count_later(["a", "a"])
    points: List[t.Point] = await t.points_later(1)
    naps: List[int] = list(await asyncio.gather(t.nap_ms(1), t.nap_ms(2)))
    later: Awaitable[t.Stopwatch] = t.Stopwatch.started_after(1)
    with await later as watch:
        laps = list(watch.laps())
    try:
        await t.div_later(1, 0)
    except t.errors.ArithmeticError.DivisionByZero as error:
        return f"{total} {counts} {points[0].x} {naps} {laps} {error.variant}"
    return "no error"


def main() -> None:
    person = t.make_person("Ada", 36)
    age: int = person.age
    email: str | None = person.email
    city: str = person.address.city
    kind: t.Kind = person.kind
    print("person:", person.name, age, email, city, kind.name, person.tags)
    older = t.birthday(person)
    print("birthday:", older.age, older == person)
    print("describe:", t.describe_person(person))
    print("shapes:", [describe(s) for s in t.all_shapes()])
    print("area:", t.area(t.Shape.Circle(radius=1.0)) > 3.14)
    print("next kind:", t.next_kind(t.Kind.Admin).name, t.next_kind(2).name)
    print("join:", t.join(["a", "b"], "-"), t.shout(b"hey"), t.non_empty(""))
    print("greet_opt:", t.greet_opt(None, 2))
    numbers = t.vec_f64(3)
    print("vec:", list(numbers), sum(numbers))
    print("sum:", t.sum_i32(array.array("i", [1, 2, 3])))
    seen: list[int] = []
    print("each_square:", t.each_square(3, lambda i, sq: seen.append(sq)), seen)
    print("count_where:", t.count_where(array.array("q", [1, 2, 3, 4]), lambda v: v % 2 == 0))
    with t.Counter(5, "c") as counter:
        counter.add(2)
        print("counter:", counter.get(), counter.label(), t.Counter.live() >= 1)
    counters = t.counters(2)
    print("counters:", [c.get() for c in counters])
    maybe = t.maybe_counter(False)
    print("maybe_counter:", maybe)
    print("batch:", list(t.scale_by.map(array.array("d", [1, 2]), 3.0)), t.scale_by(2.0, 4.0))
    # Owned parameters, maps, sets, tuples, 128-bit integers, binary data.
    counts: dict[str, int] = t.word_counts("a b a")
    groups: dict[int, list[str]] = t.by_length(["ab", "cd", "e"])
    unique: set[int] = t.distinct([3, 1, 3])
    low, high = t.min_max([2.0, -1.0])
    wide: int = t.wide_add(2**100, 1)
    data: bytes = t.repeat_byte(65, 2)
    print("owned:", t.sum_owned([1, 2, 3]), t.hyphenate(["a", "b"]), t.total_count(counts), sorted(counts.items()))
    print("maps:", groups, sorted(unique), low, high, t.pair_sum((1, 2)), wide == 2**100 + 1, data)
    print("records:", t.names([person]), t.count_admins([t.Kind.Admin, 2]), t.oldest([person, older]) == older)
    inventory = t.make_inventory(2)
    origin: tuple[float, float] = inventory.origin
    settings = t.Settings("api")
    print("defaults:", t.greet_times("a"), t.greet_times("a", 2, end="?"), settings.port, settings.role.name,
          t.Contact("c").email, t.Greeter().greet("b"))
    print("inventory:", sorted(inventory.counts), sorted(inventory.tags), origin, t.inventory_total(inventory))
    for a, b in [(-2**63, -1), (1, 0)]:
        try:
            t.checked_div(a, b)
        except t.errors.ArithmeticError.IntegerOverflow as overflow:
            left: int = overflow.a
            op: str = overflow.op
            value: t.ArithmeticError.IntegerOverflow = overflow.value
            print("typed error:", overflow.variant, left, overflow.b, op, value.a == left)
        except t.errors.ArithmeticError as error:
            print("typed error:", error.variant, error)
    try:
        t.validate_age(-1)
    except t.errors.ValidationError as invalid:
        hint: str | None = invalid.hint
        print("record error:", invalid.field, invalid.code, hint)
    try:
        t.check_access(2)
    except t.errors.Denied.Locked as denied:
        reason: t.Denied = denied.value
        print("enum error:", denied.variant, reason.name)
    print("shared:", shared())
    print("moved:", moved())
    print("traits:", traits())
    print("fn refs:", fn_refs())
    print("nested:", nested())
    print("async:", asyncio.run(awaited()))
    print("names:", names())
    try:
        t.parse_int("x")
    except t.errors.ParseIntError as error:
        print("error:", error, isinstance(error, ffi_export.FfiError))
    try:
        t.panic_now("boom")
    except ffi_export.RustPanic as error:
        print("panic:", error)


if __name__ == "__main__":
    main()
