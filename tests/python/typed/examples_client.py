"""A typed client of the examples library through its generated module
(`python ffi_export.py stubs libexamples.so --module examples_typed.py`):
`mypy --strict` checks every call against the Rust signatures."""
import array

import ffi_export

import examples_typed as ex


def main() -> None:
    total: int = ex.add(2, 3)
    print("add:", total)
    text: str = ex.repeat("ab", 3)
    print("repeat:", text)
    fib = ex.fib_sequence(6)
    first: int = fib[0]
    print("fib:", list(fib), len(fib), first)
    user = ex.create_user(7, "Ada", ex.Role.Admin, None)
    name: str = user.name
    email: str | None = user.email
    print("user:", name, email, user.role.name, ex.describe_user(user))
    points = (ex.Point * 2)(ex.Point(0, 0), ex.Point(4, 2))
    middle = ex.centroid(points)
    print("centroid:", middle.x, middle.y)
    shape: ex.Shape = ex.Shape.Rect(width=2, height=3)
    print("area:", ex.area(shape))
    values = array.array("d", [1.0, 4.0])
    ex.apply(values, lambda v: v * 10)
    print("apply:", list(values))
    header, roots = ex.sqrts(3)
    print("sqrts:", header, len(roots))
    with ex.Tally() as tally:
        tally.add(4)
        tally.add(6)
        mean: float | None = tally.mean()
        print("mean:", mean)
    print("closed:", tally.closed)
    try:
        ex.factorial(40)
    except ex.errors.Overflow as error:
        print("error:", type(error).__name__, isinstance(error, ffi_export.FfiError))
    words: list[str] = ex.multiply_string("hi", 2)
    print("words:", words, ex.join(words, "+"))


if __name__ == "__main__":
    main()
