"""get_user_info: a Rust object, freed exactly once when Python drops it.

Rust's Drop prints like the seed's delUserInfo did.

Seed: del.py freed a C string from a hand-written `__del__` calling
`delUserInfo`; here the free is generated and runs exactly once.
"""
import gc
import sys

from _common import expected, library

lib = library()


def work_work():
    user1 = lib.get_user_info("Alice")
    print("Info:", user1.info())
    print("-----------")

    user2 = lib.get_user_info("Bob")
    print("Info:", user2.info())
    print("-----------")
    sys.stdout.flush()  # Rust prints to the same stdout; keep the order
    # Now user1 and user2 get dropped, and Rust frees them.


work_work()
gc.collect()
print("Did I remember to free my memory? Live UserInfo values:", lib.UserInfo.live())

# A closed object refuses calls instead of reading freed memory.
with lib.UserInfo("Carol") as user:
    print("Name:", user.name())
    sys.stdout.flush()
with expected(ValueError):
    user.info()
