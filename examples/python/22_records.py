"""describe_user, centroid, area: records from Python, enums, plain data.

Each type is declared once, in Rust. (No seed program.)
"""
from _common import expected, library, show

lib = library()

# A record built in Python and borrowed by Rust (`&User`).
bo = lib.User(id=2, name="Bo", email=None, role=lib.Role.Guest, tags=[])
show(lib.describe_user(bo))
with expected(TypeError):
    lib.describe_user(lib.User(id=3, name="Cy", email=None, role=lib.Role.Guest, tags=[7]))

# An enum value is checked, never trusted.
with expected(ValueError):
    lib.create_user(9, "Eve", 5, None)

# #[repr(C)] plain data crosses as itself; a slice of it is borrowed.
points = (lib.Point * 3)(lib.Point(0, 0), lib.Point(4, 0), lib.Point(2, 6))
show(lib.centroid(points))

# An enum with data: a tagged union in C, a class hierarchy in Python.
for shape in (lib.Shape.Circle(radius=1.0), lib.Shape.Rect(width=2, height=3), lib.Shape.Empty()):
    print(f"area of {shape}: {lib.area(shape):.3f}")
