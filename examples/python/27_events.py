"""Events: Python objects implementing a Rust trait, called from a Rust worker thread.

Python objects implementing a Rust trait, kept by Rust and called from a
Rust worker thread; a Python function stored as a filter. (No seed
program: what callbacks could not do, since they are borrowed for one call
only.)
"""
from _common import expected, ffi_export, library

lib = library()


class Printer:
    """Implements the Rust trait `Listener`: any object with its methods."""

    def __init__(self, name, topics):
        self.label = name
        self.topics = topics
        self.got = []

    def on_event(self, event):
        if event.topic not in self.topics:
            refusal = lib.errors.Refusal.NotInterested(f"not interested in {event.topic}")
            refusal.topic = event.topic
            raise refusal  # becomes Err(Refusal::NotInterested { topic }) in Rust
        # Runs on the bus's Rust worker thread (it takes the GIL itself).
        self.got.append(f"#{event.seq} {event.topic}: {event.payload}")

    def name(self):
        return self.label


bus = lib.EventBus.new()
audit, shipping = Printer("audit", {"order", "refund"}), Printer("shipping", {"order"})
bus.subscribe(audit)
bus.subscribe(shipping)
print("Python objects held by Rust:", ffi_export.held_by_rust())
bus.set_filter(lambda event: not event.payload.startswith("test"))

for topic, payload in [("order", "2 apples"), ("refund", "1 pear"), ("order", "test order")]:
    print(f"bus.publish({topic!r}, {payload!r}) → event", bus.publish(topic, payload))

for line in bus.drain():  # waits for the worker thread
    print("log:", line)
print("audit got:", audit.got)
print("shipping got:", shipping.got)

with expected(TypeError):
    bus.subscribe(object())

bus.close()
print("held by Rust after bus.close():", ffi_export.held_by_rust())
