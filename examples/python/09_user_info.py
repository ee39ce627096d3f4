"""Objects: Rust values held by handle, freed when Python drops them."""
import gc
import sys

from _common import library

lib = library()


def work_work():
    user1 = lib.UserInfo("Alice")
    print("Info:", user1.info())
    user2 = lib.UserInfo("Bob")
    print("Info:", user2.info())
    sys.stdout.flush()
    # user1 and user2 are dropped here, and Rust frees them.


work_work()
gc.collect()
sys.stdout.flush()
print("live user infos:", lib.UserInfo.live())

with lib.Tally() as tally:
    for value in (3, 4, 8):
        tally.add(value)
    print("mean:", tally.mean())
try:
    tally.add(1)
except ValueError as error:
    print("ValueError:", error)
