"""increase: &mut [i64] in place on numpy and on a pandas column, dtype checked.

Seed: numpypandas.py checked `str(ages.dtypes) != 'int64'` by hand, then took
`ages.values.ctypes.data_as(POINTER(c_int64))` and let Go write through it.
"""
import numpy
import pandas

from _common import expected, library

lib = library()

# numpy: the array is borrowed zero-copy and changed in place.
nums = numpy.array([1, 2, 3], dtype=numpy.int64)
lib.increase(nums, 10)
print("numpy [1, 2, 3] increased by 10:", nums.tolist())

people = pandas.DataFrame(
    {
        "name": ["Alice", "Bob", "Charlie"],
        "age": [20, 30, 40],
    }
)

print("Before:")
print(people)

# pandas 3 always uses copy-on-write: a column's memory may be shared with
# other DataFrames and Series (copies, slices, earlier versions), so
# `.values` and `.to_numpy()` hand out read-only views, and writing through
# them (or forcing `flags.writeable = True`) could silently change those
# other objects too. The helper refuses the read-only view for a `&mut`
# slice instead of writing through it:
with expected(BufferError):
    lib.increase(people["age"].values, 5)

# The supported way: take a writable copy of the column, let Rust change that
# array in place (zero-copy: Rust writes into `ages` itself), and assign it
# back, which pandas records as a change of this DataFrame only.
ages = people["age"].to_numpy(copy=True)
lib.increase(ages, 5)
people["age"] = ages

print("After lib.increase(ages, 5) on a copy, assigned back:")
print(people)

# The seed checked the dtype by hand; here a wrong element type is refused on
# every call. A float column is not i64:
people["height"] = [1.62, 1.80, 1.75]
with expected(TypeError):
    lib.increase(people["height"].to_numpy(copy=True), 5)
# ...and neither is an int32 one (the same size mismatch the seed warned of).
with expected(TypeError):
    lib.increase(people["age"].to_numpy(dtype=numpy.int32), 5)

# Overflow changes nothing and is an error, where the seed's Go wrapped.
big = numpy.array([1, 2**63 - 1], dtype=numpy.int64)
with expected(lib.errors.Overflow):
    lib.increase(big, 1)
print("big unchanged:", big.tolist())
