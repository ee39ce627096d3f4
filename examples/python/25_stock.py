"""Stock: dicts, lists, tuples and records with defaults; error variants as exceptions.

Owned lists and maps in and out, records with defaults, tuples, and an
error enum whose variants are exception classes. (No seed program: the
shapes an ordinary Rust API takes and returns.)
"""
import inspect

from _common import expected, library, show

lib = library()

# A dict and a list of tuples in, a dict out (a BTreeMap: sorted by item).
stock = lib.restock({"apple": 5, "pear": 2}, [("pear", 3), ("plum", 10)])
print("restocked:", stock)

# Records with default fields: quantity 1, note None.
order = [lib.Line("apple", 2), lib.Line("plum"), lib.Line("pear", 4, note="ripe ones")]
print("order:", order[1])
stock = lib.take(stock, order)
print("after the order:", stock)

# Each variant of the Rust error enum is its own exception class, a subclass
# of the enum's; its fields are attributes, str() is the Display text.
with expected(lib.errors.StockError.UnknownItem) as unknown:
    lib.take(stock, [lib.Line("kiwi")])
print("    its field: name =", repr(unknown.error.name))
with expected(lib.errors.StockError) as short:
    lib.take(stock, [lib.Line("apple", 1), lib.Line("pear", 9)])
print(f"    its fields: available = {short.error.available}, wanted = {short.error.wanted}")
print("stock unchanged:", stock)

# Default argument values, in the signature too.
print("signature: lib.price_list" + str(inspect.signature(lib.price_list)))
show(lib.price_list({"apple": 0.5, "pear": 0.75}))
show(lib.price_list({"apple": 0.5}, discount=0.1, currency="USD"))
with expected(lib.errors.StockError.BadPrice):
    lib.price_list({"apple": 0.5, "fig": -1.0})

# Bad input names the argument and the place inside it.
with expected(OverflowError):
    lib.restock({"apple": 5}, [("pear", -3)])
