"""parse_json: the seeds' JSON benchmark document parsed into a record.

Checked against json.loads; timing it is the benchmarks' job.

Seed: the Go `parsejson` took the encoded bytes as a bare `char*` and gave
nothing back to check.
"""
import json

from _common import expected, library

lib = library()

mr_json = {
    "name": "John",
    "age": 30,
    "cars": ["Ford", "BMW", "Fiat"],
    "friends": [
        {"name": "Peter", "age": 30},
        {"name": "Anna", "age": 30},
    ],
}
text = json.dumps(mr_json)

profile = lib.parse_json(text)
print("parsed:", profile)


def as_dict(p):
    return {
        "name": p.name,
        "age": p.age,
        "cars": list(p.cars),
        "friends": [{"name": f.name, "age": f.age} for f in p.friends],
    }


print("same as json.loads:", as_dict(profile) == json.loads(text))

# Malformed or mistyped documents are errors with a position.
with expected(lib.errors.JsonError):
    lib.parse_json('{"name": "John", "age": 30')
with expected(lib.errors.JsonError):
    lib.parse_json('{"name": "John", "age": -1, "cars": [], "friends": []}')
with expected(lib.errors.JsonError):
    lib.parse_json('{"name": "John", "age": 30, "cars": []}')
