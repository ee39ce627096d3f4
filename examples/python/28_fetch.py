"""Fetch: an `async fn` awaited from asyncio; cancelling the task drops the Rust future.

The future runs on the library's own threads (the event loop and the GIL
stay free), many calls are in flight at once, errors are typed
exceptions, and cancelling the Python task drops the Rust future. (No seed
program.)
"""
import asyncio
import inspect

from _common import expected, library, show

lib = library()
show(inspect.iscoroutinefunction(lib.fetch))


async def main() -> None:
    page = await lib.fetch("https://fast.example/")
    print("one fetch:", page.status, page.body)

    # Five fetches in flight at once: together they take one latency.
    pages = await asyncio.gather(*(lib.fetch(f"https://fast.example/{n}") for n in range(5)))
    print("five at once, pages:", [p.url.rsplit("/", 1)[1] for p in pages])

    # Each variant of the Rust error enum is an exception class.
    with expected(lib.errors.FetchError.UnknownHost) as unknown:
        await lib.fetch("https://nowhere.example/")
    print("    its field: host =", repr(unknown.error.host))
    with expected(lib.errors.FetchError):
        await lib.fetch("https://fast.example/missing")

    # A timeout cancels the task: the Rust future is dropped, not left running.
    with expected(asyncio.TimeoutError):
        await asyncio.wait_for(lib.fetch("https://slow.example/"), 0.1)


asyncio.run(main())

# Without an event loop of your own: asyncio.run is the blocking form.
show(asyncio.run(lib.fetch("https://fast.example/again")).url)
