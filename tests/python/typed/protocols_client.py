"""A typed client of the protocols the test library's types opt in to
(`#[export(Display, Eq, Hash, Ord, ..)]`), through its generated module:
`sorted`, `set`, `==`, `copy`, operators, `len`, indexing, checked by mypy
--strict and run."""
import copy
from typing import List, Set

import tests_typed as t

m = t.protocols

versions: List[t.protocols.Version] = [m.Version(1, 2, 3, ""), m.Version(1, 2, 3, "rc1"), m.Version()]
ordered: List[t.protocols.Version] = sorted(versions)
assert ordered == m.sort_versions(versions)
unique: Set[t.protocols.Version] = set(versions) | {m.Version.default()}
assert len(unique) == 3 and str(ordered[-1]) == "1.2.3" and ordered[0] != ordered[-1]
newest: t.protocols.Version = max(versions)

a, b = m.Vec2(1.0, 2.0), m.Vec2(3.0, 4.0)
total: t.protocols.Vec2 = a + b - a / b
dot: float = a * b
flipped: t.protocols.Vec2 = -a
smaller: bool = a < b

tokens: List[t.protocols.Token] = sorted([m.Token.End(), m.Token.Word("x")])
token_names: Set[t.protocols.Token] = set(tokens)
suit_text: str = str(m.Suit.default())

bag = m.Bag(["a", "b"])
copied: t.protocols.Bag = copy.copy(bag)
deep: t.protocols.Bag = copy.deepcopy(bag)
joined: t.protocols.Bag = bag + copied
first: str = bag[0]
size: int = len(bag)
bags: Set[t.protocols.Bag] = {bag, copied, deep, m.Bag.default()}
assert joined.words() == ["a", "b", "a", "b"] and first == "a" and size == 2 and len(bags) == 2
assert bool(bag) and min([joined, bag]) == bag and repr(bag).startswith("Bag")
assert m.Cell(1) == m.Cell(1)
