"""Records, enums and plain-data structs: declared once, in Rust."""
from array import array

from _common import library

lib = library()

person = lib.fill(lib.Person(first_name="John", last_name="Galt", full_name=""))
print("full name:", person.full_name)

user = lib.create_user(7, "Ada", lib.Role.Admin, "ada@example.com")
print(user)
print(lib.describe_user(user))
print(lib.describe_user(lib.create_user(8, "Bob", lib.Role.Guest, None)))
for u in lib.create_random_users(3, 42):
    print(" -", lib.describe_user(u))
try:
    lib.create_user(9, "Eve", 5, None)
except ValueError as error:
    print("ValueError:", error)

points = (lib.Point * 3)(lib.Point(0, 0), lib.Point(4, 0), lib.Point(2, 6))
print("centroid:", lib.centroid(points))

for shape in (lib.Shape.Circle(radius=1.0), lib.Shape.Rect(width=2, height=3), lib.Shape.Empty()):
    print(f"area of {shape}: {lib.area(shape):.3f}")
