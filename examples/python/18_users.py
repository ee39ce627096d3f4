"""create_user, create_random_user(s): records and a Vec of records out.

Seed: the struct was declared in C, in Go, as a ctypes Structure and as a
Python dataclass; each user was freed with `free_user` and the list with
`free_users(ptr, count)`, trusting the count.
"""
from _common import library

lib = library()

me = lib.create_user(1, "Kieran", lib.Role.Member, "kieran@canadiancoding.ca")
print("created:", me)
rando = lib.create_random_user(7)
print("random, seed 7:", rando)
users = lib.create_random_users(5, 42)
print(len(users), "random users, seed 42:")
for user in users:
    print(" -", lib.describe_user(user))
